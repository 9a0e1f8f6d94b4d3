/*
 * Public entry of @latchkey/angular. The reference app imports only from here.
 */
export { adminGuard, authGuard, guestGuard, safeReturnUrl } from './auth-guard';
export { type AuditEventFilter, LatchkeyAdmin, type LatchkeyPage } from './latchkey-admin';
export {
  LatchkeyAuth,
  type LatchkeyStatus,
  type LoginOutcome,
  type RegisterOutcome,
  type SecondFactorProof,
} from './latchkey-auth';
export { LATCHKEY_CONFIG, type LatchkeyConfig } from './latchkey-config';
export { latchkeyInterceptor } from './latchkey-interceptor';
export type { LatchkeyResult } from './latchkey-result';
export { provideLatchkey } from './provide-latchkey';
export type { AdminUser, AuditEventData, SessionData, UserData } from '@latchkey/contract';
