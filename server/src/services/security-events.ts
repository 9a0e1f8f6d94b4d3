/**
 * Security events: what an operator needs to see who did what to which account, from where
 * (OWASP Logging Cheat Sheet, "Which events to log": authentication successes and failures,
 * session ends, token reuse, password changes). The services report them here with their subject
 * (user id, session id, client IP) and never a secret: no password, token, cookie or email
 * address (an email field often holds a password typed one field too early). app.ts writes each
 * as one structured log line; the audit log of the operators' issue can record the same events.
 */
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
  | 'email_changed';

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
}

export type RecordSecurityEvent = (event: SecurityEvent) => void;

/** For compositions that log nowhere (the CLI, and tests that do not look). */
export const ignoreSecurityEvents: RecordSecurityEvent = () => undefined;
