/**
 * What the services need from a database, in the smallest form that works. One SQL
 * implementation (sql-store.ts) serves SQLite and PostgreSQL; every method takes the time it
 * should use (`now`, epoch ms) so tests drive the clock and the database never reads its own.
 * server/test/store-conformance.test.ts checks this contract on both.
 *
 * Strings never contain NUL (U+0000): PostgreSQL text cannot hold it, so callers validate or hash
 * what clients send before it gets here. When the database cannot answer (unreachable, timed out,
 * busy) every method rejects with AuthError `service_unavailable`.
 */

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  admin: boolean;
  createdAt: number;
  /** When the address was verified; null while it is not. */
  emailVerifiedAt: number | null;
  /** When an operator disabled the account; null while it may sign in. */
  disabledAt: number | null;
  /** The last sign-in (registration, login); null before the first. */
  lastLoginAt: number | null;
}

/** Small facts about an event: ids, reasons, counts. Never a secret. */
export type AuditDetail = Record<string, string | number | boolean | null>;

/** A security event as the audit log holds it (v2 contract, "Audit log"). */
export interface AuditEvent {
  id: string;
  type: string;
  /** The account it is about; null for a failed login that named no account. */
  userId: string | null;
  /** Who did it when it was not the user (an admin); null otherwise. */
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  createdAt: number;
  detail: AuditDetail;
}

/** An event to write together with a change; the store gives it its id and time. */
export interface AuditEntry {
  type: string;
  /** Unset: the account the change is about, when only the store knows it (a spent token). */
  userId?: string | null;
  actorId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: AuditDetail;
}

/** Events to write in a change's transaction, at `at`. */
export interface Audit {
  at: number;
  events: AuditEntry[];
}

/** Where a newest-first list goes on from: the last item of the previous page. */
export interface PageCursor {
  createdAt: number;
  id: string;
}

/** What a link token is for: verifying the address, resetting the password, a new address. */
export type EmailTokenPurpose = 'verify' | 'reset' | 'change';

/** A link token as stored: its SHA-256, bound to a purpose, an account and an address. */
export interface NewEmailToken {
  tokenHash: string;
  purpose: EmailTokenPurpose;
  userId: string;
  /** The address the link goes to (for `change`, the new one). */
  email: string;
  createdAt: number;
  expiresAt: number;
}

/** A mail for the outbox; `body` is already rendered (and sealed when a key is set). */
export interface NewMail {
  id: string;
  recipient: string;
  subject: string;
  body: string;
  createdAt: number;
}

/** A mail a sender claimed; `attempts` counts this one. */
export interface QueuedMail {
  id: string;
  recipient: string;
  subject: string;
  body: string;
  attempts: number;
}

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  idleExpiresAt: number;
  revokedAt: number | null;
  userAgent: string | null;
  ip: string | null;
  /** How the user signed in (RFC 8176 `amr` values, space-separated): `pwd`, `pwd otp mfa`. */
  amr: string;
}

export interface NewSession {
  id: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  idleExpiresAt: number;
  userAgent: string | null;
  ip: string | null;
  amr?: string;
}

export interface RefreshTokenRecord {
  tokenHash: string;
  sessionId: string;
  expiresAt: number;
  supersededAt: number | null;
  /** The sealed successor (services/successor-seal.ts); null while current. */
  successor: string | null;
  session: SessionRecord;
}

export interface SigningKeyRecord {
  kid: string;
  algorithm: string;
  publicJwk: string;
  privateJwk: string;
  createdAt: number;
  retiredAt: number | null;
}

export interface CounterState {
  count: number;
  windowEndsAt: number;
}

export interface RevokedSession {
  id: string;
  revokedAt: number;
}

/** One entry of the revocation log; `seq` grows in commit order and is never reused. */
export interface Revocation {
  seq: number;
  sessionId: string;
  revokedAt: number;
}

/** What a revocation wrote: the sessions it ended and the log's `seq` of the last one. */
export interface Revoked {
  sessionIds: string[];
  /** Null when nothing was live, so nothing was written. */
  seq: number | null;
}

/** A running server instance as the others see it. */
export interface InstanceRecord {
  id: string;
  startedAt: number;
  heartbeatAt: number;
  appliedSeq: number;
}

/**
 * `revoked`: another instance may have logged a revocation. `applied`: another instance may have
 * applied some (its `appliedSeq` grew).
 */
export type StoreSignal = 'revoked' | 'applied';

export interface StoreWatch {
  close(): Promise<void>;
}

export interface Store {
  /**
   * Inserts the user, and with `verification` its verification token and mail, in one
   * transaction; false when the email is taken (no exception, no partial write).
   */
  insertUser(
    user: UserRecord,
    verification?: { token: NewEmailToken; mail: NewMail },
    audit?: Audit,
  ): Promise<boolean>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /**
   * Compare-and-set: replaces the user's hash only while it is still `currentHash`. False when
   * another change came first (or the user is gone); of concurrent calls with the same
   * `currentHash`, exactly one returns true.
   */
  replacePasswordHash(
    userId: string,
    currentHash: string,
    nextHash: string,
    audit?: Audit,
  ): Promise<boolean>;
  /**
   * Users, oldest first, whose email contains `query` (case-insensitive), after `after`. The order
   * is (created_at, id), which rows added meanwhile cannot disturb: paging has no gaps or repeats.
   */
  listUsers(filter: { query?: string; limit: number; after?: PageCursor }): Promise<UserRecord[]>;
  /**
   * Disables (revoking and logging every session in the same transaction) or enables an account;
   * undefined when there is no such user.
   */
  setUserDisabled(
    userId: string,
    disabled: boolean,
    now: number,
    audit: Audit,
  ): Promise<Revoked | undefined>;
  /** Grants or removes the admin role; false when there is no such user. */
  setUserAdmin(userId: string, admin: boolean, audit: Audit): Promise<boolean>;
  /**
   * Deletes the account and everything of it but its audit events, revoking and logging its
   * sessions first (so every instance refuses their tokens); undefined when there is no such user.
   */
  deleteUser(userId: string, now: number, audit: Audit): Promise<Revoked | undefined>;

  /** Writes events that go with no change (a failed login). */
  recordAuditEvents(audit: Audit): Promise<void>;
  /** Audit events, newest first, after `before`. */
  listAuditEvents(filter: {
    userId?: string;
    type?: string;
    limit: number;
    before?: PageCursor;
  }): Promise<AuditEvent[]>;

  /** Creates a session with its first refresh token, atomically. */
  /** Also sets the user's `lastLoginAt`, and writes `audit`, in the same transaction. */
  createSession(
    session: NewSession,
    refresh: { tokenHash: string; expiresAt: number },
    audit?: Audit,
  ): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Compare-and-set, atomically: marks `oldHash` superseded with its sealed successor, stores the
   * successor and slides the session's idle expiry. `superseded` (nothing written) when another
   * rotation of `oldHash` came first: of concurrent calls exactly one rotates. `ended` (nothing
   * written) when the session was revoked meanwhile.
   */
  rotateRefreshToken(rotation: {
    oldHash: string;
    newHash: string;
    sealedSuccessor: string;
    sessionId: string;
    now: number;
    newExpiresAt: number;
  }): Promise<'rotated' | 'superseded' | 'ended'>;
  /**
   * Revokes one session if it is live, and logs it in the same transaction (so no instance can
   * see the one without the other). Each event of `audit` is written once per ended session
   * (its user, and its `session_id` in the detail), and only if one ended.
   */
  revokeSession(sessionId: string, now: number, reason: string, audit?: Audit): Promise<Revoked>;
  /** Revokes and logs every live session of a user except one; `audit` as for revokeSession. */
  revokeUserSessions(
    userId: string,
    exceptSessionId: string | null,
    now: number,
    reason: string,
    audit?: Audit,
  ): Promise<Revoked>;
  /** Live sessions of a user (not revoked, not expired), newest first. */
  listLiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** Sessions revoked at or after `since`. */
  listRevokedSince(since: number): Promise<RevokedSession[]>;
  /** The highest `seq` of the revocation log; 0 when it is empty. */
  lastRevocationSeq(): Promise<number>;
  /** Log entries after `seq`, in order. */
  listRevocationsAfter(seq: number): Promise<Revocation[]>;

  /**
   * Creates or refreshes an instance's row (its heartbeat). `announce`: tell watching instances
   * its `appliedSeq` grew (PostgreSQL sends a notification with the commit).
   */
  recordInstance(instance: InstanceRecord, announce: boolean): Promise<void>;
  listInstances(): Promise<InstanceRecord[]>;
  /** Deletes an instance's row; with `heartbeatAt`, only while it still has that heartbeat. */
  removeInstance(id: string, heartbeatAt?: number): Promise<void>;
  /**
   * Calls `onSignal` when another instance may have revoked or applied something: PostgreSQL
   * pushes (LISTEN/NOTIFY on a connection of its own); SQLite is polled. Signals may be lost
   * (while reconnecting) or spurious: they only make the caller look sooner.
   */
  watch(onSignal: (signal: StoreSignal) => void): Promise<StoreWatch>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  /** Inserts the key only if no key is active, so instances starting together keep one key. */
  insertFirstSigningKey(key: SigningKeyRecord): Promise<void>;
  /**
   * Compare-and-set of a key's private part (sealing a key stored plain): replaces it only while
   * it is still `current`; false when another instance did it first.
   */
  replaceSigningKeyPrivateJwk(kid: string, current: string, next: string): Promise<boolean>;
  /** Retires every key but `kid` that is not retired yet. */
  retireSigningKeysExcept(kid: string, now: number): Promise<void>;

  /**
   * Records a link token and its mails in one transaction. Older unused tokens of the same
   * purpose and account are retired in it (a newer link makes older ones unusable).
   */
  issueEmailToken(token: NewEmailToken, mails: NewMail[], audit?: Audit): Promise<void>;
  /**
   * The account and address of a usable token of `purpose`: not used, not expired, and for
   * `verify` and `reset` sent to the account's current address. Reads only; spends nothing.
   */
  findEmailToken(
    tokenHash: string,
    purpose: EmailTokenPurpose,
    now: number,
  ): Promise<{ userId: string; email: string } | undefined>;
  /**
   * Spends a usable `verify` token and marks its address verified, in one transaction; the
   * user id, or undefined when the token was not usable. Of concurrent calls one succeeds.
   */
  verifyEmail(tokenHash: string, now: number, audit?: Audit): Promise<string | undefined>;
  /**
   * Spends a usable `reset` token and, in the same transaction, sets the password hash, counts
   * the address as verified, retires the account's other reset tokens and revokes (and logs)
   * every session. Undefined when the token was not usable; of concurrent calls one succeeds.
   * `audit` is written once; each ended session also gets a `session_ended` event.
   */
  resetPassword(
    tokenHash: string,
    nextHash: string,
    now: number,
    audit?: Audit,
  ): Promise<{ userId: string; email: string; revoked: Revoked } | undefined>;
  /**
   * Spends a usable `change` token and makes its address the account's email, verified, in one
   * transaction. `taken` (nothing written, the token not spent) when another account has that
   * address by now; undefined when the token was not usable.
   */
  confirmEmailChange(
    tokenHash: string,
    now: number,
    audit?: Audit,
  ): Promise<{ userId: string; email: string; previousEmail: string } | 'taken' | undefined>;

  /** Records mails for the outbox (outside a change: notices). */
  enqueueMails(mails: NewMail[]): Promise<void>;
  /**
   * Claims the oldest due mail for `leaseMs` (nobody else gets it meanwhile) and counts the
   * attempt; undefined when none is due.
   */
  claimMail(now: number, leaseMs: number): Promise<QueuedMail | undefined>;
  /** The mail went out: marked sent, its body blanked. */
  recordMailSent(id: string, now: number): Promise<void>;
  /** The attempt failed: tried again at `retryAt`, or given up on when it is null. */
  recordMailFailure(id: string, now: number, retryAt: number | null, error: string): Promise<void>;
  /** Takes or renews the lease `name` for `holder`; false while another holder has it. */
  acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;

  /**
   * Second factors (services/second-factors.ts). Saves a TOTP secret awaiting its first code,
   * replacing one that was never confirmed; false when a confirmed one exists.
   */
  saveTotpSecret(userId: string, sealedSecret: string, now: number): Promise<boolean>;
  findTotp(
    userId: string,
  ): Promise<{ secret: string; confirmedAt: number | null; lastStep: number } | undefined>;
  /**
   * Compare-and-set: accepts `step` only while it is later than the last accepted one, so a
   * code (or an earlier one) works once; of parallel calls with one step, one returns true.
   */
  acceptTotpStep(userId: string, step: number): Promise<boolean>;
  /** Activates a pending TOTP at `step` and stores fresh recovery codes, with `audit`, at once. */
  confirmTotp(
    userId: string,
    step: number,
    recoveryCodeHashes: string[],
    now: number,
    audit: Audit,
  ): Promise<boolean>;
  /** Deletes TOTP and the recovery codes. */
  removeTotp(userId: string, audit: Audit): Promise<void>;
  replaceRecoveryCodes(userId: string, hashes: string[], now: number, audit: Audit): Promise<void>;
  /** Spends an unused recovery code of the user; of parallel calls with one code, one wins. */
  spendRecoveryCode(userId: string, hash: string, now: number, audit: Audit): Promise<boolean>;
  countRecoveryCodes(userId: string): Promise<number>;
  createMfaChallenge(challenge: {
    tokenHash: string;
    userId: string;
    createdAt: number;
    expiresAt: number;
  }): Promise<void>;
  /** The user of an unused, unexpired pending sign-in. */
  findMfaChallenge(tokenHash: string, now: number): Promise<string | undefined>;
  /** Spends a pending sign-in; of parallel calls one returns true. */
  spendMfaChallenge(tokenHash: string, now: number): Promise<boolean>;

  /** Adds one hit to a fixed-window counter, starting a new window when the old one ended. */
  hitCounter(key: string, windowMs: number, now: number): Promise<CounterState>;
  /** The counter's state, or undefined when it has no live window. */
  readCounter(key: string, now: number): Promise<CounterState | undefined>;
  deleteCounter(key: string): Promise<void>;
  /**
   * Deletes ended counter windows, refresh tokens and sessions that can no longer be used, and
   * audit events older than `auditRetentionMs`.
   */
  pruneExpired(now: number, auditRetentionMs: number): Promise<void>;

  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
