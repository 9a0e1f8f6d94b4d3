/**
 * Security events: what an operator needs to see who did what to which account, from where
 * (OWASP Logging Cheat Sheet, "Which events to log": authentication successes and failures,
 * session ends, token reuse, password changes). The services report them here with their subject
 * (user id, session id, client IP) and never a secret: no password, token, cookie or email
 * address (an email field often holds a password typed one field too early). app.ts writes each
 * as one structured log line; the audit log of the operators' issue can record the same events.
 */
import type { Audit, AuditDetail, AuditEntry } from '../store/store.ts';

export type SecurityEventType =
  | 'registered'
  | 'login_succeeded'
  | 'login_failed'
  | 'session_ended'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'password_change_failed'
  | 'email_verification_requested'
  | 'email_verified'
  | 'password_reset_requested'
  | 'password_reset'
  | 'email_change_requested'
  | 'email_change_failed'
  | 'email_changed'
  | 'logged_out'
  | 'account_disabled'
  | 'account_enabled'
  | 'account_deleted'
  | 'role_changed'
  | 'mfa_enrolled'
  | 'mfa_removed'
  | 'mfa_failed'
  | 'recovery_code_used'
  | 'recovery_codes_regenerated';

export interface SecurityEvent {
  type: SecurityEventType;
  /** The account concerned; null for a failed login naming no account. */
  userId: string | null;
  sessionId?: string;
  /** The client's address, as TRUST_PROXY resolves it; absent for work no request asked for. */
  ip?: string;
  /**
   * Why: a failure's cause (`bad_password`, `unknown_account`, `throttled`) or what ended a
   * session (`signed_out`, `signed_out_elsewhere`, `password_changed`, `session_limit`,
   * `refresh_token_reuse`).
   */
  reason?: string;
  /** Who did it when it was not the user: an admin's id. */
  actorId?: string;
  userAgent?: string;
}

export type RecordSecurityEvent = (event: SecurityEvent) => void;

/**
 * The audit-log form of an event (store.ts AuditEntry), written in the transaction of its change.
 * The session id and reason go into `detail`; the user agent is cut to a sane length.
 */
export function auditEntryOf(event: SecurityEvent): AuditEntry {
  const detail: AuditDetail = {};
  if (event.sessionId !== undefined) detail['session_id'] = event.sessionId;
  if (event.reason !== undefined) detail['reason'] = event.reason;
  return {
    type: event.type,
    userId: event.userId,
    actorId: event.actorId ?? null,
    ip: event.ip ?? null,
    userAgent: event.userAgent?.slice(0, 512) ?? null,
    detail,
  };
}

/** One event as the store's Audit, at `at`. */
export const auditOf = (at: number, ...events: SecurityEvent[]): Audit => ({
  at,
  events: events.map(auditEntryOf),
});

/** For compositions that log nowhere (the CLI, and tests that do not look). */
export const ignoreSecurityEvents: RecordSecurityEvent = () => undefined;
