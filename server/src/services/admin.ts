import { AuthError } from '../errors.ts';
import type { AuditEvent, PageCursor, SessionRecord, Store, UserRecord } from '../store/store.ts';
import type { Clock } from './clock.ts';
import {
  describeEmailProblem,
  describePasswordProblem,
  normalizeEmail,
  normalizePassword,
} from './credential-rules.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { RevocationList } from './revocation-list.ts';
import { auditOf, type RecordSecurityEvent, type SecurityEvent } from './security-events.ts';
import type { ClientInfo, Sessions } from './sessions.ts';

/** The records the admin routes show, named here so http/ needs no import of store/. */
export type { AuditEvent, SessionRecord, UserRecord };

/** Who asks: an admin through the API (their id and client), or the CLI (no actor). */
export interface Actor {
  id: string | null;
  client: ClientInfo;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Admin {
  /** AuthError `forbidden` unless the user is an admin now (read from the database, not a cache). */
  requireAdmin(userId: string): Promise<void>;
  listUsers(filter: { query?: string; limit: number; cursor?: string }): Promise<Page<UserRecord>>;
  getUser(userId: string): Promise<{ user: UserRecord; sessions: SessionRecord[] }>;
  /** Looks an account up by email for the CLI; AuthError `not_found` when there is none. */
  findByEmail(email: string): Promise<UserRecord>;
  setDisabled(actor: Actor, userId: string, disabled: boolean): Promise<void>;
  setAdmin(actor: Actor, userId: string, admin: boolean): Promise<void>;
  endSessions(actor: Actor, userId: string): Promise<number>;
  deleteUser(actor: Actor, userId: string): Promise<void>;
  /**
   * For a user who lost every second factor: removes TOTP and the recovery codes and ends every
   * session, audited with the admin who did it. The user signs in with the password alone, then
   * sets up a new authenticator.
   */
  resetSecondFactors(actor: Actor, userId: string): Promise<void>;
  listEvents(filter: {
    userId?: string;
    type?: string;
    limit: number;
    cursor?: string;
  }): Promise<Page<AuditEvent>>;
  /** The CLI's `create-admin`: a new account with the admin role. */
  createAdmin(email: string, password: string): Promise<UserRecord>;
}

const USER_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Cursors are opaque to clients: `createdAt.id` of the page's last item, base64url. */
export const encodeCursor = (cursor: PageCursor): string =>
  Buffer.from(`${cursor.createdAt}.${cursor.id}`, 'utf8').toString('base64url');

function decodeCursor(cursor: string | undefined): PageCursor | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const match = /^(\d{1,16})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (match === null) {
    throw new AuthError('validation_failed', {
      fields: { cursor: 'Not a cursor this server gave out.' },
      message: 'Not a cursor this server gave out.',
    });
  }
  return { createdAt: Number(match[1]), id: match[2] ?? '' };
}

function page<T extends { createdAt: number; id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
  };
}

/**
 * What operators do (v2 contract, "accounts for operators"): list and inspect accounts, disable,
 * enable, change roles, end sessions, delete, read the audit log. The API and the CLI both use
 * it. Every change writes its audit event in its own transaction (store.ts) and ends sessions
 * through the same revocation path as a logout, so it holds on every instance at once.
 */
export function createAdmin(options: {
  store: Store;
  clock: Clock;
  hasher: PasswordHasher;
  sessions: Sessions;
  revocations: RevocationList;
  recordEvent: RecordSecurityEvent;
  /** A user's cached public data changed (the admin flag). */
  onUserChanged: (userId: string) => void;
  /** Mails the account a notice of a security change. */
  notify: (userId: string, change: string) => Promise<void>;
}): Admin {
  const { store, clock, revocations, recordEvent } = options;

  const existing = async (userId: string): Promise<UserRecord> => {
    const user = USER_ID_PATTERN.test(userId) ? await store.findUserById(userId) : undefined;
    if (user === undefined) throw new AuthError('not_found', { message: 'No such account.' });
    return user;
  };

  /** An admin may not lock themselves out (v2 contract): no disabling, demoting or deleting self. */
  const notSelf = (actor: Actor, userId: string, what: string) => {
    if (actor.id === userId) {
      const message = `You cannot ${what} your own account.`;
      throw new AuthError('validation_failed', { fields: { id: message }, message });
    }
  };

  const eventOf = (
    actor: Actor,
    type: SecurityEvent['type'],
    userId: string,
    reason?: string,
  ): SecurityEvent => ({
    type,
    userId,
    ip: actor.client.ip,
    userAgent: actor.client.userAgent,
    ...(actor.id === null ? {} : { actorId: actor.id }),
    ...(reason === undefined ? {} : { reason }),
  });

  return {
    async requireAdmin(userId) {
      const user = await store.findUserById(userId);
      if (user?.admin !== true || user.disabledAt !== null) throw new AuthError('forbidden');
    },

    async listUsers({ query, limit, cursor }) {
      const after = decodeCursor(cursor);
      const rows = await store.listUsers({
        ...(query === undefined ? {} : { query }),
        limit: limit + 1,
        ...(after === undefined ? {} : { after }),
      });
      return page(rows, limit);
    },

    async getUser(userId) {
      const user = await existing(userId);
      return { user, sessions: await store.listLiveSessions(user.id, clock.now()) };
    },

    async findByEmail(email) {
      const user = await store.findUserByEmail(normalizeEmail(email));
      if (user === undefined) {
        throw new AuthError('not_found', { message: `No account has the email ${email}.` });
      }
      return user;
    },

    async setDisabled(actor, userId, disabled) {
      if (disabled) notSelf(actor, userId, 'disable');
      await existing(userId);
      const now = clock.now();
      const event = eventOf(actor, disabled ? 'account_disabled' : 'account_enabled', userId);
      const revoked = await store.setUserDisabled(userId, disabled, now, auditOf(now, event));
      if (revoked === undefined) throw new AuthError('not_found', { message: 'No such account.' });
      await revocations.publish(revoked, now);
      recordEvent(event);
    },

    async setAdmin(actor, userId, admin) {
      if (!admin) notSelf(actor, userId, 'remove the admin role from');
      await existing(userId);
      const event = eventOf(
        actor,
        'role_changed',
        userId,
        admin ? 'granted_admin' : 'removed_admin',
      );
      if (!(await store.setUserAdmin(userId, admin, auditOf(clock.now(), event)))) {
        throw new AuthError('not_found', { message: 'No such account.' });
      }
      options.onUserChanged(userId);
      recordEvent(event);
    },

    async endSessions(actor, userId) {
      await existing(userId);
      return options.sessions.endAll(userId, actor.client, actor.id ?? 'cli');
    },

    async deleteUser(actor, userId) {
      notSelf(actor, userId, 'delete');
      await existing(userId);
      const now = clock.now();
      const event = eventOf(actor, 'account_deleted', userId);
      const revoked = await store.deleteUser(userId, now, auditOf(now, event));
      if (revoked === undefined) throw new AuthError('not_found', { message: 'No such account.' });
      await revocations.publish(revoked, now);
      options.onUserChanged(userId);
      recordEvent(event);
    },

    async resetSecondFactors(actor, userId) {
      notSelf(actor, userId, 'reset the second factors of');
      await existing(userId);
      const now = clock.now();
      const event = eventOf(actor, 'mfa_removed', userId, 'admin_reset');
      await store.removeTotp(userId, auditOf(now, event));
      recordEvent(event);
      await options.notify(userId, 'an administrator removed your two-step sign-in');
      await options.sessions.endAll(userId, actor.client, actor.id ?? 'cli');
    },

    async listEvents({ userId, type, limit, cursor }) {
      const before = decodeCursor(cursor);
      const rows = await store.listAuditEvents({
        ...(userId === undefined ? {} : { userId }),
        ...(type === undefined ? {} : { type }),
        limit: limit + 1,
        ...(before === undefined ? {} : { before }),
      });
      return page(rows, limit);
    },

    async createAdmin(rawEmail, password) {
      const email = normalizeEmail(rawEmail);
      const problem = describeEmailProblem(email) ?? describePasswordProblem(password);
      if (problem !== undefined) throw new AuthError('validation_failed', { message: problem });
      const now = clock.now();
      const user: UserRecord = {
        id: crypto.randomUUID(),
        email,
        passwordHash: await options.hasher.hash(normalizePassword(password)),
        admin: true,
        createdAt: now,
        // The operator typed the address: **(choice)** it counts as verified.
        emailVerifiedAt: now,
        disabledAt: null,
        lastLoginAt: null,
      };
      const event: SecurityEvent = { type: 'registered', userId: user.id, reason: 'create_admin' };
      if (!(await store.insertUser(user, undefined, auditOf(now, event)))) {
        throw new AuthError('email_taken', {
          message: `${email} already has an account: use grant-admin to make it an admin.`,
        });
      }
      recordEvent(event);
      return user;
    },
  };
}
