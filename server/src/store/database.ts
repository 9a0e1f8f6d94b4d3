import type { Generated } from 'kysely';

/**
 * Table types for Kysely. Times are epoch milliseconds (INTEGER in SQLite, BIGINT in PostgreSQL)
 * so both databases compare and sort them the same way; booleans are 0/1 integers.
 */
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  admin: number;
  created_at: number;
  email_verified_at: number | null;
  disabled_at: number | null;
  last_login_at: number | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  /** Absolute end: login + SESSION_MAX_AGE. */
  expires_at: number;
  /** End if not refreshed again: last refresh + REFRESH_TOKEN_TTL, capped by expires_at. */
  idle_expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  user_agent: string | null;
  ip: string | null;
  amr: string;
}

export interface RefreshTokensTable {
  /** SHA-256 of the token, base64url; the token itself is never stored. */
  token_hash: string;
  session_id: string;
  created_at: number;
  expires_at: number;
  /** When this token was rotated; null while it is the current one. */
  superseded_at: number | null;
  /** The token that replaced it, sealed with a key derived from this token; null while current. */
  successor: string | null;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  retired_at: number | null;
}

export interface ThrottleCountersTable {
  key: string;
  count: number;
  window_ends_at: number;
}

/** Append-only: one row per revoked session, numbered in commit order. */
export interface RevocationsTable {
  seq: Generated<number>;
  session_id: string;
  revoked_at: number;
}

/** One row per running server instance (see services/revocation-list.ts). */
export interface InstancesTable {
  id: string;
  started_at: number;
  /** The instance's own clock at its last heartbeat; others only watch whether it changes. */
  heartbeat_at: number;
  /** The highest revocation `seq` the instance has applied. */
  applied_seq: number;
}

export interface EmailTokensTable {
  /** SHA-256 of the token, base64url. */
  token_hash: string;
  purpose: string;
  user_id: string;
  /** The address the link was sent to. */
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface OutboxTable {
  id: string;
  recipient: string;
  subject: string;
  /** The rendered mail (JSON of text and html), sealed when a key is set; '' once sent. */
  body: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  /** A sender holds the row until then. */
  claimed_until: number | null;
  sent_at: number | null;
  /** Given up on after the last retry. */
  failed_at: number | null;
  last_error: string | null;
}

export interface AuditEventsTable {
  id: string;
  type: string;
  user_id: string | null;
  actor_id: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: number;
  /** JSON object. */
  detail: string;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface TotpFactorsTable {
  user_id: string;
  secret: string;
  created_at: number;
  confirmed_at: number | null;
  last_step: number;
}

export interface RecoveryCodesTable {
  code_hash: string;
  user_id: string;
  created_at: number;
  used_at: number | null;
}

export interface MfaChallengesTable {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  throttle_counters: ThrottleCountersTable;
  revocations: RevocationsTable;
  instances: InstancesTable;
  email_tokens: EmailTokensTable;
  outbox: OutboxTable;
  leases: LeasesTable;
  audit_events: AuditEventsTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  mfa_challenges: MfaChallengesTable;
}
