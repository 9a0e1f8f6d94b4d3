/*
 * Public entry of @latchkey/angular. The reference app imports only from here.
 */
export { authGuard, guestGuard, safeReturnUrl } from './auth-guard';
export { LatchkeyAuth, type LatchkeyStatus, type RegisterOutcome } from './latchkey-auth';
export { LATCHKEY_CONFIG, type LatchkeyConfig } from './latchkey-config';
export { latchkeyInterceptor } from './latchkey-interceptor';
export type { LatchkeyResult } from './latchkey-result';
export { provideLatchkey } from './provide-latchkey';
export type { SessionData, UserData } from '@latchkey/contract';
