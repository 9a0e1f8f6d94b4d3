import { createHash, randomBytes } from 'node:crypto';
import { AuthError } from '../errors.ts';
import type { RefreshTokenRecord, SessionRecord, Store } from '../store/store.ts';
import type { AccessClaims, AccessTokens } from './access-tokens.ts';
import type { Clock } from './clock.ts';
import type { RevocationList } from './revocation-list.ts';
import {
  auditOf,
  type RecordSecurityEvent,
  type SecurityEvent,
  type SecurityEventType,
} from './security-events.ts';
import { openSuccessor, sealSuccessor } from './successor-seal.ts';

/**
 * 256 random bits, base64url: far above the 128 bits The Copenhagen Book ("Session tokens") and
 * OWASP ASVS V3.2.2 ask for. Only its SHA-256 is stored: a leaked database yields no usable token,
 * and a fast hash is enough for a high-entropy secret (Copenhagen Book, "Storing session tokens").
 */
const REFRESH_TOKEN_BYTES = 32;
const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/**
 * Session ids are crypto.randomUUID(); anything else a client names cannot be a session, and is
 * refused before it reaches the database (PostgreSQL text cannot even hold a NUL character).
 */
const SESSION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USER_AGENT_MAX_LENGTH = 512;
/**
 * Rotations a replay within the grace window may follow to the current token. Each needs a
 * refresh, so a handful covers any real burst; a longer chain is refused rather than walked.
 */
const MAX_CHAIN_STEPS = 16;

/** Sessions as the API shows them; named here so http/ needs no import of store/. */
export type { SessionRecord };

export interface SessionsOptions {
  store: Store;
  clock: Clock;
  accessTokens: AccessTokens;
  revocations: RevocationList;
  refreshTokenTtlSeconds: number;
  sessionMaxAgeSeconds: number;
  refreshReuseGraceSeconds: number;
  /** A sign-in past this many live sessions ends the least recently used ones. */
  maxSessionsPerUser: number;
  recordEvent: RecordSecurityEvent;
}

export interface ClientInfo {
  userAgent: string | undefined;
  ip: string | undefined;
}

/** What a sign-in or refresh hands to the client. */
export interface IssuedSession {
  sessionId: string;
  accessToken: string;
  expiresInSeconds: number;
  refreshToken: string;
  /** The refresh cookie's Max-Age. */
  refreshMaxAgeSeconds: number;
}

/** Why every other session of a user ends. */
export type EndOthersReason = 'signed_out_elsewhere' | 'password_changed' | 'mfa_removed';

/**
 * The client of each call is the request's, for its security events (security-events.ts).
 */
export interface Sessions {
  /** Starts a session; `event` (the sign-in) is written to the audit log with it. */
  start(
    userId: string,
    client: ClientInfo,
    event?: SecurityEvent,
    amr?: string,
  ): Promise<IssuedSession>;
  /** Rotates a refresh token; AuthError `invalid_refresh_token` for anything but a usable one. */
  refresh(refreshToken: string, client: ClientInfo): Promise<IssuedSession>;
  /** Verifies an access token and that its session is not revoked. */
  authenticate(accessToken: string): Promise<AccessClaims>;
  /**
   * Ends one session of a user; false when the user has no such live session. `signed_out` (a
   * logout, the default) or `ended_by_user` (another session of theirs).
   */
  end(
    userId: string,
    sessionId: string,
    client: ClientInfo,
    reason?: 'signed_out' | 'ended_by_user',
  ): Promise<boolean>;
  /** Ends the session a refresh token belongs to; false when the token is not usable. */
  endByRefreshToken(refreshToken: string, client: ClientInfo): Promise<boolean>;
  /** Ends every session of a user but `keepSessionId`; returns how many ended. */
  endOthers(
    userId: string,
    keepSessionId: string,
    client: ClientInfo,
    reason: EndOthersReason,
  ): Promise<number>;
  /** An admin (`actorId`) ends every session of a user; returns how many ended. */
  endAll(userId: string, client: ClientInfo, actorId: string): Promise<number>;
  listLive(userId: string): Promise<SessionRecord[]>;
}

/** A logout is its own event; every other end of a session is `session_ended`. */
const endedType = (reason: string): SecurityEventType =>
  reason === 'signed_out' ? 'logged_out' : 'session_ended';

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Sessions, refresh-token rotation with theft detection, and immediate revocation.
 *
 * Rotation follows OAuth 2.0 Security BCP (RFC 9700 §4.14.2): every refresh returns a new token
 * and supersedes the old one, exactly once (a compare-and-set). A superseded token presented
 * within REFRESH_REUSE_GRACE seconds of its rotation is a concurrent refresh (several tabs) and
 * gets the same successor as the first; presented later it means two parties hold the token, so
 * the whole session ends.
 */
export function createSessions(options: SessionsOptions): Sessions {
  const { store, clock, accessTokens, revocations, recordEvent } = options;

  /**
   * Revokes a session and answers only once every live instance has applied it (v2 contract);
   * returns whether it was live.
   */
  const revoke = async (
    session: { id: string; userId: string },
    reason: string,
    client: ClientInfo,
    before: SecurityEventType[] = [],
  ): Promise<boolean> => {
    const now = clock.now();
    const events: SecurityEvent[] = [...before, endedType(reason)].map((type) => ({
      type,
      userId: session.userId,
      ip: client.ip,
      userAgent: client.userAgent,
    }));
    // The events are written with the revocation, once it ended a live session (store.ts).
    const result = await store.revokeSession(session.id, now, reason, auditOf(now, ...events));
    await revocations.publish(result, now);
    if (result.seq === null) return false;
    for (const event of events) {
      recordEvent({
        ...event,
        sessionId: session.id,
        reason: event.type === 'refresh_token_reused' ? undefined : reason,
      });
    }
    return true;
  };

  const issue = async (
    sessionId: string,
    userId: string,
    refresh: { token: string; expiresAt: number; issuedAt: number },
    amr: string,
  ): Promise<IssuedSession> => {
    const access = await accessTokens.issue({ userId, sessionId, amr: amr.split(' ') });
    return {
      sessionId,
      accessToken: access.token,
      expiresInSeconds: access.expiresInSeconds,
      refreshToken: refresh.token,
      refreshMaxAgeSeconds: Math.max(0, Math.floor((refresh.expiresAt - refresh.issuedAt) / 1000)),
    };
  };

  /** The record behind a refresh token if it may still be used (maybe superseded), else undefined. */
  const findUsable = async (refreshToken: string) => {
    if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) return undefined;
    const record = await store.findRefreshToken(hashToken(refreshToken));
    const now = clock.now();
    if (
      record === undefined ||
      record.session.revokedAt !== null ||
      record.session.expiresAt <= now ||
      record.expiresAt <= now
    ) {
      return undefined;
    }
    return record;
  };

  /**
   * A superseded token. Within the grace window it is a concurrent refresh (several tabs, or a
   * retry after a lost answer): it gets the session's current token, found by opening each sealed
   * successor from this token on (v2 contract: one successor, so a session never forks into two
   * chains and a copied cookie replayed in the window shares the owner's chain, where the next
   * use of an older cookie is caught). Later it means two parties hold the token: the session
   * ends.
   */
  const resume = async (
    token: string,
    record: RefreshTokenRecord,
    now: number,
    client: ClientInfo,
  ): Promise<IssuedSession> => {
    if (record.supersededAt === null) throw new Error('resume needs a superseded token');
    if (now - record.supersededAt > options.refreshReuseGraceSeconds * 1000) {
      const session = { id: record.sessionId, userId: record.session.userId };
      await revoke(session, 'refresh_token_reuse', client, ['refresh_token_reused']);
      throw new AuthError('invalid_refresh_token');
    }
    let current = token;
    let row: RefreshTokenRecord | undefined = record;
    for (let step = 0; step < MAX_CHAIN_STEPS && row !== undefined; step++) {
      if (row.supersededAt === null) {
        return issue(
          row.sessionId,
          row.session.userId,
          { token: current, expiresAt: row.expiresAt, issuedAt: now },
          row.session.amr,
        );
      }
      const next = row.successor === null ? undefined : openSuccessor(current, row.successor);
      if (next === undefined) break;
      current = next;
      row = await findUsable(current);
    }
    throw new AuthError('invalid_refresh_token');
  };

  /**
   * At most maxSessionsPerUser live sessions (v2 contract): a sign-in past the cap ends the least
   * recently used others at once, so a script signing in in a loop cannot grow a user's sessions
   * (and the revocation list) without bound. The new session is always kept. Parallel sign-ins
   * each trim to the cap, so together they settle on it.
   */
  const endSessionsPastTheCap = async (
    userId: string,
    keepSessionId: string,
    client: ClientInfo,
  ) => {
    const live = await store.listLiveSessions(userId, clock.now());
    if (live.length <= options.maxSessionsPerUser) return;
    const others = live
      .filter((s) => s.id !== keepSessionId)
      .sort((a, b) => b.lastUsedAt - a.lastUsedAt || b.createdAt - a.createdAt);
    for (const session of others.slice(options.maxSessionsPerUser - 1)) {
      await revoke(session, 'session_limit', client);
    }
  };

  /** Ends every live session of a user but `keep`, with one event per session, at once. */
  const endWhere = async (
    userId: string,
    keep: string | null,
    client: ClientInfo,
    reason: string,
    actorId?: string,
  ): Promise<number> => {
    const now = clock.now();
    const event: SecurityEvent = {
      type: 'session_ended',
      userId,
      ip: client.ip,
      userAgent: client.userAgent,
      ...(actorId === undefined ? {} : { actorId }),
    };
    const result = await store.revokeUserSessions(userId, keep, now, reason, auditOf(now, event));
    await revocations.publish(result, now);
    for (const sessionId of result.sessionIds) recordEvent({ ...event, sessionId, reason });
    return result.sessionIds.length;
  };

  return {
    async start(userId, client, event, amr = 'pwd') {
      const now = clock.now();
      const sessionId = crypto.randomUUID();
      const refreshToken = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
      const expiresAt = now + options.sessionMaxAgeSeconds * 1000;
      const refreshExpiresAt = Math.min(now + options.refreshTokenTtlSeconds * 1000, expiresAt);
      await store.createSession(
        {
          id: sessionId,
          userId,
          createdAt: now,
          expiresAt,
          idleExpiresAt: refreshExpiresAt,
          userAgent: client.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) ?? null,
          ip: client.ip ?? null,
          amr,
        },
        { tokenHash: hashToken(refreshToken), expiresAt: refreshExpiresAt },
        event && auditOf(now, { ...event, userAgent: client.userAgent }),
      );
      if (event !== undefined) recordEvent({ ...event, sessionId });
      await endSessionsPastTheCap(userId, sessionId, client);
      return issue(
        sessionId,
        userId,
        { token: refreshToken, expiresAt: refreshExpiresAt, issuedAt: now },
        amr,
      );
    },

    async refresh(refreshToken, client) {
      const record = await findUsable(refreshToken);
      if (record === undefined) throw new AuthError('invalid_refresh_token');
      const now = clock.now();
      if (record.supersededAt !== null) return resume(refreshToken, record, now, client);
      const successor = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
      const newExpiresAt = Math.min(
        now + options.refreshTokenTtlSeconds * 1000,
        record.session.expiresAt,
      );
      const outcome = await store.rotateRefreshToken({
        oldHash: record.tokenHash,
        newHash: hashToken(successor),
        sealedSuccessor: sealSuccessor(refreshToken, successor),
        sessionId: record.sessionId,
        now,
        newExpiresAt,
      });
      if (outcome === 'ended') throw new AuthError('invalid_refresh_token');
      if (outcome === 'superseded') {
        // A concurrent refresh with the same cookie rotated it first: answer with its successor.
        const rotated = await findUsable(refreshToken);
        if (rotated?.supersededAt == null) throw new AuthError('invalid_refresh_token');
        return resume(refreshToken, rotated, now, client);
      }
      return issue(
        record.sessionId,
        record.session.userId,
        { token: successor, expiresAt: newExpiresAt, issuedAt: now },
        record.session.amr,
      );
    },

    async authenticate(accessToken) {
      const claims = await accessTokens.verify(accessToken);
      revocations.check(claims.sid);
      return claims;
    },

    async end(userId, sessionId, client, reason = 'signed_out') {
      if (!SESSION_ID_PATTERN.test(sessionId)) return false;
      const session = await store.findSession(sessionId);
      if (session === undefined || session.userId !== userId || session.revokedAt !== null)
        return false;
      return revoke(session, reason, client);
    },

    async endByRefreshToken(refreshToken, client) {
      const record = await findUsable(refreshToken);
      if (record === undefined) return false;
      return revoke({ id: record.sessionId, userId: record.session.userId }, 'signed_out', client);
    },

    endOthers: (userId, keepSessionId, client, reason) =>
      endWhere(userId, keepSessionId, client, reason),

    endAll: (userId, client, actorId) => endWhere(userId, null, client, 'ended_by_admin', actorId),

    listLive: (userId) => store.listLiveSessions(userId, clock.now()),
  };
}
