import {
  type Kysely,
  type Selectable,
  sql,
  type Transaction,
  type UpdateQueryBuilder,
  type UpdateResult,
} from 'kysely';
import type { Database, SessionsTable, UsersTable } from './database.ts';
import type {
  Audit,
  AuditDetail,
  AuditEntry,
  EmailTokenPurpose,
  NewEmailToken,
  NewMail,
  Revoked,
  SessionRecord,
  Store,
  UserRecord,
} from './store.ts';
import { watchByPolling } from './watch-by-polling.ts';

/** How long ended sessions are kept before pruning: the sessions page and audits can still see them. */
const KEEP_ENDED_SESSIONS_MS = 24 * 3600 * 1000;
/** Thrown inside a rotation to roll it back when another rotation came first. */
class Superseded extends Error {}
/** Thrown inside an email change to roll it back (the token unspent) when the address is taken. */
class AddressTaken extends Error {}
/** Sent mails are kept (bodies blanked) this long, for an operator to see what went out. */
const KEEP_SENT_MAIL_MS = 7 * 24 * 3600 * 1000;
/**
 * The revocation log is read by instances catching up after a reconnect; an entry older than the
 * longest access-token lifetime (ACCESS_TOKEN_TTL is at most a day) cannot matter any more.
 */
const KEEP_REVOCATION_LOG_MS = 2 * 24 * 3600 * 1000;
/**
 * An instance whose heartbeat is this old has crashed (a clean stop deletes its row); revoking
 * instances stopped waiting for it long before (services/revocation-list.ts). Should it be alive
 * after all, its next heartbeat writes the row again.
 */
const FORGET_SILENT_INSTANCE_MS = 3600 * 1000;

const toUser = (row: Selectable<UsersTable>): UserRecord => ({
  id: row.id,
  email: row.email,
  passwordHash: row.password_hash,
  admin: Number(row.admin) === 1,
  createdAt: Number(row.created_at),
  emailVerifiedAt: row.email_verified_at === null ? null : Number(row.email_verified_at),
  disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
  lastLoginAt: row.last_login_at === null ? null : Number(row.last_login_at),
});

/** `%`, `_` and `\` taken literally in a LIKE pattern (with `escape '\'`). */
const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const toSession = (row: Selectable<SessionsTable>): SessionRecord => ({
  id: row.id,
  userId: row.user_id,
  createdAt: Number(row.created_at),
  lastUsedAt: Number(row.last_used_at),
  expiresAt: Number(row.expires_at),
  idleExpiresAt: Number(row.idle_expires_at),
  revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  userAgent: row.user_agent,
  ip: row.ip,
  amr: row.amr,
});

export interface SqlStoreOptions {
  /**
   * Runs first in the transaction that inserts the first signing key, so instances starting
   * together on an empty database end up with one key. SQLite needs nothing: its one writer at a
   * time already serialises the statement. PostgreSQL does: under READ COMMITTED two concurrent
   * `INSERT … WHERE NOT EXISTS` can both see no key and both insert.
   */
  serialiseKeyBootstrap?: (trx: Transaction<Database>) => Promise<void>;
  /**
   * Runs first in every revocation's transaction. PostgreSQL needs it: its sequence hands out
   * numbers at insert time, so two concurrent revocations could commit out of order and a reader
   * that saw the later number would skip the earlier one; a transaction lock makes them commit in
   * order. It also sends the `revoked` notification (delivered at commit). SQLite's one writer at
   * a time already orders them.
   */
  serialiseRevocations?: (trx: Transaction<Database>) => Promise<void>;
  /** Runs in the transaction of an announced `recordInstance` (PostgreSQL: NOTIFY `applied`). */
  announceApplied?: (trx: Transaction<Database>) => Promise<void>;
  /** How signals reach this instance; default: polling the tables (watch-by-polling.ts). */
  watch?: Store['watch'];
}

/**
 * The one SQL implementation of the Store, in SQL that SQLite (3.35+) and PostgreSQL both run.
 * `close` ends the connection or pool the opener created.
 */
export function createSqlStore(db: Kysely<Database>, options: SqlStoreOptions = {}): Store {
  /**
   * Revokes the live sessions `which` selects and logs each, in one transaction: an instance that
   * reads the log never misses a revocation the sessions table holds, nor the reverse.
   */
  type SessionFilter = (
    q: UpdateQueryBuilder<Database, 'sessions', 'sessions', UpdateResult>,
  ) => UpdateQueryBuilder<Database, 'sessions', 'sessions', UpdateResult>;
  const revoke = (
    now: number,
    reason: string,
    which: SessionFilter,
    audit?: Audit,
  ): Promise<Revoked> =>
    db.transaction().execute((trx) => revokeIn(trx, now, reason, which, audit));

  /**
   * Writes audit events inside `trx`. `fill` supplies what only the change knows: the account,
   * and details such as a session id.
   */
  const insertAudit = async (
    trx: Kysely<Database>,
    audit: Audit | undefined,
    fill: { userId?: string; detail?: AuditDetail } = {},
  ) => {
    if (audit === undefined || audit.events.length === 0) return;
    await trx
      .insertInto('audit_events')
      .values(
        audit.events.map((event: AuditEntry) => ({
          id: crypto.randomUUID(),
          type: event.type,
          user_id: event.userId === undefined ? (fill.userId ?? null) : event.userId,
          actor_id: event.actorId ?? null,
          ip: event.ip ?? null,
          user_agent: event.userAgent ?? null,
          created_at: audit.at,
          detail: JSON.stringify({ ...event.detail, ...fill.detail }),
        })),
      )
      .execute();
  };
  /** The same, inside a transaction that also makes the change the revocation is for. */
  const revokeIn = async (
    trx: Transaction<Database>,
    now: number,
    reason: string,
    which: SessionFilter,
    audit?: Audit,
  ): Promise<Revoked> => {
    await options.serialiseRevocations?.(trx);
    const ended = await which(
      trx
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('revoked_at', 'is', null),
    )
      .returning(['id', 'user_id'])
      .execute();
    if (ended.length === 0) return { sessionIds: [], seq: null };
    // One event per ended session, in the revocation's own transaction.
    for (const session of ended) {
      await insertAudit(trx, audit, {
        userId: session.user_id,
        detail: { session_id: session.id, reason },
      });
    }
    const logged = await trx
      .insertInto('revocations')
      .values(ended.map((e) => ({ session_id: e.id, revoked_at: now })))
      .returning('seq')
      .execute();
    return {
      sessionIds: ended.map((e) => e.id),
      seq: Math.max(...logged.map((l) => Number(l.seq))),
    };
  };

  /**
   * A conditional change of one user's data and its audit events, in one transaction: `change`
   * answers undefined when its condition matched nothing, and then nothing is written.
   */
  const auditedChange = (
    userId: string,
    audit: Audit | undefined,
    change: (trx: Transaction<Database>) => Promise<unknown>,
  ): Promise<boolean> =>
    db.transaction().execute(async (trx) => {
      if ((await change(trx)) === undefined) return false;
      await insertAudit(trx, audit, { userId });
      return true;
    });

  /** A user's recovery codes replaced by `hashes`, inside `trx`. */
  const replaceCodesIn = async (
    trx: Transaction<Database>,
    userId: string,
    hashes: string[],
    now: number,
  ) => {
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    await trx
      .insertInto('recovery_codes')
      .values(
        hashes.map((code_hash) => ({ code_hash, user_id: userId, created_at: now, used_at: null })),
      )
      .execute();
  };

  const insertToken = async (trx: Transaction<Database>, token: NewEmailToken) => {
    // A newer link of the same purpose makes older ones unusable (v2 contract).
    await trx
      .updateTable('email_tokens')
      .set({ used_at: token.createdAt })
      .where('user_id', '=', token.userId)
      .where('purpose', '=', token.purpose)
      .where('used_at', 'is', null)
      .execute();
    await trx
      .insertInto('email_tokens')
      .values({
        token_hash: token.tokenHash,
        purpose: token.purpose,
        user_id: token.userId,
        email: token.email,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        used_at: null,
      })
      .execute();
  };

  const insertMails = async (trx: Kysely<Database>, mails: NewMail[]) => {
    if (mails.length === 0) return;
    await trx
      .insertInto('outbox')
      .values(
        mails.map((mail) => ({
          id: mail.id,
          recipient: mail.recipient,
          subject: mail.subject,
          body: mail.body,
          created_at: mail.createdAt,
          attempts: 0,
          next_attempt_at: mail.createdAt,
          claimed_until: null,
          sent_at: null,
          failed_at: null,
          last_error: null,
        })),
      )
      .execute();
  };

  /**
   * Spends a usable token of `purpose` inside `trx`: one conditional UPDATE, so of concurrent
   * spends exactly one matches (the others see `used_at` set once the first commits).
   */
  const spendToken = async (
    trx: Transaction<Database>,
    tokenHash: string,
    purpose: EmailTokenPurpose,
    now: number,
  ) =>
    trx
      .updateTable('email_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['user_id', 'email'])
      .executeTakeFirst();

  /** The account a spent `verify`/`reset` token names, if the link went to its current address. */
  const accountAt = async (trx: Transaction<Database>, userId: string, email: string) =>
    trx
      .selectFrom('users')
      .select(['id', 'email'])
      .where('id', '=', userId)
      .where('email', '=', email)
      .executeTakeFirst();

  return {
    async insertUser(user, verification, audit) {
      return db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('users')
          .values({
            id: user.id,
            email: user.email,
            password_hash: user.passwordHash,
            admin: user.admin ? 1 : 0,
            created_at: user.createdAt,
            email_verified_at: user.emailVerifiedAt,
            disabled_at: user.disabledAt,
            last_login_at: user.lastLoginAt,
          })
          .onConflict((oc) => oc.column('email').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted === undefined) return false;
        if (verification !== undefined) {
          await insertToken(trx, verification.token);
          await insertMails(trx, [verification.mail]);
        }
        await insertAudit(trx, audit, { userId: user.id });
        return true;
      });
    },

    async issueEmailToken(token, mails, audit) {
      await db.transaction().execute(async (trx) => {
        await insertToken(trx, token);
        await insertMails(trx, mails);
        await insertAudit(trx, audit, { userId: token.userId });
      });
    },

    async findEmailToken(tokenHash, purpose, now) {
      let query = db
        .selectFrom('email_tokens as t')
        .innerJoin('users as u', 'u.id', 't.user_id')
        .select(['t.user_id', 't.email'])
        .where('t.token_hash', '=', tokenHash)
        .where('t.purpose', '=', purpose)
        .where('t.used_at', 'is', null)
        .where('t.expires_at', '>', now);
      if (purpose !== 'change') query = query.whereRef('u.email', '=', 't.email');
      const row = await query.executeTakeFirst();
      return row && { userId: row.user_id, email: row.email };
    },

    async verifyEmail(tokenHash, now, audit) {
      return db.transaction().execute(async (trx) => {
        const spent = await spendToken(trx, tokenHash, 'verify', now);
        if (spent === undefined) return undefined;
        // The account's address changed since the link was sent: it verifies nothing.
        if ((await accountAt(trx, spent.user_id, spent.email)) === undefined) return undefined;
        await trx
          .updateTable('users')
          .set({ email_verified_at: sql<number>`coalesce(email_verified_at, ${now})` })
          .where('id', '=', spent.user_id)
          .execute();
        await insertAudit(trx, audit, { userId: spent.user_id });
        return spent.user_id;
      });
    },

    async resetPassword(tokenHash, nextHash, now, audit) {
      return db.transaction().execute(async (trx) => {
        const spent = await spendToken(trx, tokenHash, 'reset', now);
        if (spent === undefined) return undefined;
        if ((await accountAt(trx, spent.user_id, spent.email)) === undefined) return undefined;
        await trx
          .updateTable('users')
          .set({
            password_hash: nextHash,
            email_verified_at: sql<number>`coalesce(email_verified_at, ${now})`,
          })
          .where('id', '=', spent.user_id)
          .execute();
        await trx
          .updateTable('email_tokens')
          .set({ used_at: now })
          .where('user_id', '=', spent.user_id)
          .where('purpose', '=', 'reset')
          .where('used_at', 'is', null)
          .execute();
        await insertAudit(trx, audit, { userId: spent.user_id });
        const first = audit?.events[0];
        const revoked = await revokeIn(
          trx,
          now,
          'password_reset',
          (q) => q.where('user_id', '=', spent.user_id),
          audit && {
            at: audit.at,
            events: [{ type: 'session_ended', ip: first?.ip, userAgent: first?.userAgent }],
          },
        );
        return { userId: spent.user_id, email: spent.email, revoked };
      });
    },

    async confirmEmailChange(tokenHash, now, audit) {
      try {
        return await db.transaction().execute(async (trx) => {
          const spent = await spendToken(trx, tokenHash, 'change', now);
          if (spent === undefined) return undefined;
          const before = await trx
            .selectFrom('users')
            .select('email')
            .where('id', '=', spent.user_id)
            .executeTakeFirst();
          if (before === undefined) return undefined;
          const taken = await trx
            .selectFrom('users')
            .select('id')
            .where('email', '=', spent.email)
            .where('id', '!=', spent.user_id)
            .executeTakeFirst();
          if (taken !== undefined) throw new AddressTaken();
          await trx
            .updateTable('users')
            .set({ email: spent.email, email_verified_at: now })
            .where('id', '=', spent.user_id)
            .execute();
          await insertAudit(trx, audit, { userId: spent.user_id });
          return { userId: spent.user_id, email: spent.email, previousEmail: before.email };
        });
      } catch (error) {
        if (error instanceof AddressTaken) return 'taken';
        // Two accounts confirming one address at once: the unique index refuses the second.
        const taken = await db
          .selectFrom('email_tokens as t')
          .innerJoin('users as u', 'u.email', 't.email')
          .select('u.id')
          .where('t.token_hash', '=', tokenHash)
          .whereRef('u.id', '!=', 't.user_id')
          .executeTakeFirst()
          .catch(() => undefined);
        if (taken !== undefined) return 'taken';
        throw error;
      }
    },

    async enqueueMails(mails) {
      await insertMails(db, mails);
    },

    async claimMail(now, leaseMs) {
      const due = db
        .selectFrom('outbox')
        .select('id')
        .where('sent_at', 'is', null)
        .where('failed_at', 'is', null)
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .orderBy('created_at')
        .limit(1);
      // The claim repeats the condition: of two senders that picked the same row, the second
      // matches nothing once the first has committed (PostgreSQL re-checks it after the lock).
      const row = await db
        .updateTable('outbox')
        .set({ claimed_until: now + leaseMs, attempts: sql<number>`attempts + 1` })
        .where('id', '=', due)
        .where('sent_at', 'is', null)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
        .returning(['id', 'recipient', 'subject', 'body', 'attempts'])
        .executeTakeFirst();
      return row && { ...row, attempts: Number(row.attempts) };
    },

    async recordMailSent(id, now) {
      await db
        .updateTable('outbox')
        .set({ sent_at: now, body: '', claimed_until: null, last_error: null })
        .where('id', '=', id)
        .execute();
    },

    async recordMailFailure(id, now, retryAt, error) {
      await db
        .updateTable('outbox')
        .set({
          claimed_until: null,
          last_error: error.slice(0, 500),
          ...(retryAt === null ? { failed_at: now, body: '' } : { next_attempt_at: retryAt }),
        })
        .where('id', '=', id)
        .execute();
    },

    async acquireLease(name, holder, now, ttlMs) {
      // One statement: taken when free, expired or already ours; otherwise nothing changes.
      const row = await db
        .insertInto('leases')
        .values({ name, holder, expires_at: now + ttlMs })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ holder, expires_at: now + ttlMs })
            .where((eb) =>
              eb.or([eb('leases.expires_at', '<=', now), eb('leases.holder', '=', holder)]),
            ),
        )
        .returning('holder')
        .executeTakeFirst();
      return row?.holder === holder;
    },

    async findUserByEmail(email) {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('email', '=', email)
        .executeTakeFirst();
      return row && toUser(row);
    },

    async findUserById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },

    async replacePasswordHash(userId, currentHash, nextHash, audit) {
      // One conditional UPDATE: the database serializes concurrent ones, so of several changes
      // made against the same current hash exactly one matches.
      return auditedChange(userId, audit, (trx) =>
        trx
          .updateTable('users')
          .set({ password_hash: nextHash })
          .where('id', '=', userId)
          .where('password_hash', '=', currentHash)
          .returning('id')
          .executeTakeFirst(),
      );
    },

    async listUsers({ query, limit, after }) {
      let q = db.selectFrom('users').selectAll();
      if (query !== undefined && query !== '') {
        q = q.where(
          sql<boolean>`lower(email) like ${`%${likeEscape(query.toLowerCase())}%`} escape '\\'`,
        );
      }
      if (after !== undefined) {
        q = q.where((eb) =>
          eb.or([
            eb('created_at', '>', after.createdAt),
            eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
          ]),
        );
      }
      const rows = await q.orderBy('created_at').orderBy('id').limit(limit).execute();
      return rows.map(toUser);
    },

    async setUserDisabled(userId, disabled, now, audit) {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('users')
          .set({ disabled_at: disabled ? sql<number>`coalesce(disabled_at, ${now})` : null })
          .where('id', '=', userId)
          .returning('id')
          .executeTakeFirst();
        if (row === undefined) return undefined;
        await insertAudit(trx, audit, { userId });
        if (!disabled) return { sessionIds: [], seq: null };
        return revokeIn(trx, now, 'account_disabled', (q) => q.where('user_id', '=', userId));
      });
    },

    async setUserAdmin(userId, admin, audit) {
      return auditedChange(userId, audit, (trx) =>
        trx
          .updateTable('users')
          .set({ admin: admin ? 1 : 0 })
          .where('id', '=', userId)
          .returning('id')
          .executeTakeFirst(),
      );
    },

    async deleteUser(userId, now, audit) {
      return db.transaction().execute(async (trx) => {
        const exists = await trx
          .selectFrom('users')
          .select('id')
          .where('id', '=', userId)
          .executeTakeFirst();
        if (exists === undefined) return undefined;
        // Revoked (and logged) first: every instance must refuse the sessions' tokens; the log
        // keeps their ids after the rows are gone.
        const revoked = await revokeIn(trx, now, 'account_deleted', (q) =>
          q.where('user_id', '=', userId),
        );
        await trx.deleteFrom('email_tokens').where('user_id', '=', userId).execute();
        await trx
          .deleteFrom('refresh_tokens')
          .where(
            'session_id',
            'in',
            trx.selectFrom('sessions').select('id').where('user_id', '=', userId),
          )
          .execute();
        await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
        await trx.deleteFrom('users').where('id', '=', userId).execute();
        await insertAudit(trx, audit, { userId });
        return revoked;
      });
    },

    async saveTotpSecret(userId, sealedSecret, now) {
      return db.transaction().execute(async (trx) => {
        const current = await trx
          .selectFrom('totp_factors')
          .select('confirmed_at')
          .where('user_id', '=', userId)
          .executeTakeFirst();
        if (current?.confirmed_at != null) return false;
        await trx.deleteFrom('totp_factors').where('user_id', '=', userId).execute();
        await trx
          .insertInto('totp_factors')
          .values({
            user_id: userId,
            secret: sealedSecret,
            created_at: now,
            confirmed_at: null,
            last_step: 0,
          })
          .execute();
        return true;
      });
    },

    async findTotp(userId) {
      const row = await db
        .selectFrom('totp_factors')
        .selectAll()
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return (
        row && {
          secret: row.secret,
          confirmedAt: row.confirmed_at === null ? null : Number(row.confirmed_at),
          lastStep: Number(row.last_step),
        }
      );
    },

    async acceptTotpStep(userId, step) {
      const row = await db
        .updateTable('totp_factors')
        .set({ last_step: step })
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is not', null)
        .where('last_step', '<', step)
        .returning('user_id')
        .executeTakeFirst();
      return row !== undefined;
    },

    async confirmTotp(userId, step, recoveryCodeHashes, now, audit) {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('totp_factors')
          .set({ confirmed_at: now, last_step: step })
          .where('user_id', '=', userId)
          .where('confirmed_at', 'is', null)
          .where('last_step', '<', step)
          .returning('user_id')
          .executeTakeFirst();
        if (row === undefined) return false;
        await replaceCodesIn(trx, userId, recoveryCodeHashes, now);
        await insertAudit(trx, audit, { userId });
        return true;
      });
    },

    async removeTotp(userId, audit) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('totp_factors').where('user_id', '=', userId).execute();
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        await insertAudit(trx, audit, { userId });
      });
    },

    async replaceRecoveryCodes(userId, hashes, now, audit) {
      await db.transaction().execute(async (trx) => {
        await replaceCodesIn(trx, userId, hashes, now);
        await insertAudit(trx, audit, { userId });
      });
    },

    async spendRecoveryCode(userId, hash, now, audit) {
      return auditedChange(userId, audit, (trx) =>
        trx
          .updateTable('recovery_codes')
          .set({ used_at: now })
          .where('code_hash', '=', hash)
          .where('user_id', '=', userId)
          .where('used_at', 'is', null)
          .returning('code_hash')
          .executeTakeFirst(),
      );
    },

    async countRecoveryCodes(userId) {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async createMfaChallenge({ tokenHash, userId, createdAt, expiresAt }) {
      await db
        .insertInto('mfa_challenges')
        .values({
          token_hash: tokenHash,
          user_id: userId,
          created_at: createdAt,
          expires_at: expiresAt,
          used_at: null,
        })
        .execute();
    },

    async findMfaChallenge(tokenHash, now) {
      const row = await db
        .selectFrom('mfa_challenges')
        .select('user_id')
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row?.user_id;
    },

    async spendMfaChallenge(tokenHash, now) {
      const row = await db
        .updateTable('mfa_challenges')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('token_hash')
        .executeTakeFirst();
      return row !== undefined;
    },

    async recordAuditEvents(audit) {
      await db.transaction().execute((trx) => insertAudit(trx, audit));
    },

    async listAuditEvents({ userId, type, limit, before }) {
      let q = db.selectFrom('audit_events').selectAll();
      if (userId !== undefined) q = q.where('user_id', '=', userId);
      if (type !== undefined) q = q.where('type', '=', type);
      if (before !== undefined) {
        q = q.where((eb) =>
          eb.or([
            eb('created_at', '<', before.createdAt),
            eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
          ]),
        );
      }
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        type: row.type,
        userId: row.user_id,
        actorId: row.actor_id,
        ip: row.ip,
        userAgent: row.user_agent,
        createdAt: Number(row.created_at),
        detail: JSON.parse(row.detail) as AuditDetail,
      }));
    },

    async createSession(session, refresh, audit) {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set({ last_login_at: session.createdAt })
          .where('id', '=', session.userId)
          .execute();
        await insertAudit(trx, audit, {
          userId: session.userId,
          detail: { session_id: session.id },
        });
        await trx
          .insertInto('sessions')
          .values({
            id: session.id,
            user_id: session.userId,
            created_at: session.createdAt,
            last_used_at: session.createdAt,
            expires_at: session.expiresAt,
            idle_expires_at: session.idleExpiresAt,
            revoked_at: null,
            revoked_reason: null,
            user_agent: session.userAgent,
            ip: session.ip,
            amr: session.amr ?? 'pwd',
          })
          .execute();
        await trx
          .insertInto('refresh_tokens')
          .values({
            token_hash: refresh.tokenHash,
            session_id: session.id,
            created_at: session.createdAt,
            expires_at: refresh.expiresAt,
            superseded_at: null,
            successor: null,
          })
          .execute();
      });
    },

    async findSession(id) {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toSession(row);
    },

    async findRefreshToken(tokenHash) {
      const row = await db
        .selectFrom('refresh_tokens as r')
        .innerJoin('sessions as s', 's.id', 'r.session_id')
        .selectAll('s')
        .select([
          'r.token_hash',
          'r.expires_at as token_expires_at',
          'r.superseded_at',
          'r.successor',
        ])
        .where('r.token_hash', '=', tokenHash)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        tokenHash: row.token_hash,
        sessionId: row.id,
        expiresAt: Number(row.token_expires_at),
        supersededAt: row.superseded_at === null ? null : Number(row.superseded_at),
        successor: row.successor,
        session: toSession(row),
      };
    },

    async rotateRefreshToken({ oldHash, newHash, sealedSuccessor, sessionId, now, newExpiresAt }) {
      try {
        return await db.transaction().execute(async (trx) => {
          // The session row first, then the token row, in every rotation: concurrent ones queue
          // on the same locks in the same order, so they cannot deadlock.
          const live = await trx
            .updateTable('sessions')
            .set({ last_used_at: now, idle_expires_at: newExpiresAt })
            .where('id', '=', sessionId)
            .where('revoked_at', 'is', null)
            .returning('id')
            .executeTakeFirst();
          if (live === undefined) return 'ended' as const;
          // The compare-and-set: only a current token can be rotated. A concurrent rotation
          // that got here first leaves nothing to match (PostgreSQL re-checks the condition once
          // the first commits), and this one is rolled back.
          const claimed = await trx
            .updateTable('refresh_tokens')
            .set({ superseded_at: now, successor: sealedSuccessor })
            .where('token_hash', '=', oldHash)
            .where('superseded_at', 'is', null)
            .returning('token_hash')
            .executeTakeFirst();
          if (claimed === undefined) throw new Superseded('another rotation came first');
          await trx
            .insertInto('refresh_tokens')
            .values({
              token_hash: newHash,
              session_id: sessionId,
              created_at: now,
              expires_at: newExpiresAt,
              superseded_at: null,
              successor: null,
            })
            .execute();
          return 'rotated' as const;
        });
      } catch (error) {
        if (error instanceof Superseded) return 'superseded';
        throw error;
      }
    },

    async revokeSession(sessionId, now, reason, audit) {
      return revoke(now, reason, (q) => q.where('id', '=', sessionId), audit);
    },

    async revokeUserSessions(userId, exceptSessionId, now, reason, audit) {
      return revoke(
        now,
        reason,
        (q) => {
          const mine = q.where('user_id', '=', userId);
          return exceptSessionId === null ? mine : mine.where('id', '!=', exceptSessionId);
        },
        audit,
      );
    },

    async listLiveSessions(userId, now) {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now)
        .orderBy('last_used_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toSession);
    },

    async listRevokedSince(since) {
      const rows = await db
        .selectFrom('sessions')
        .select(['id', 'revoked_at'])
        .where('revoked_at', '>=', since)
        .execute();
      return rows.map((r) => ({ id: r.id, revokedAt: Number(r.revoked_at) }));
    },

    async lastRevocationSeq() {
      const row = await db
        .selectFrom('revocations')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .executeTakeFirst();
      return row?.seq == null ? 0 : Number(row.seq);
    },

    async listRevocationsAfter(seq) {
      const rows = await db
        .selectFrom('revocations')
        .selectAll()
        .where('seq', '>', seq)
        .orderBy('seq')
        .execute();
      return rows.map((r) => ({
        seq: Number(r.seq),
        sessionId: r.session_id,
        revokedAt: Number(r.revoked_at),
      }));
    },

    async recordInstance(instance, announce) {
      const upsert = (q: Kysely<Database>) =>
        q
          .insertInto('instances')
          .values({
            id: instance.id,
            started_at: instance.startedAt,
            heartbeat_at: instance.heartbeatAt,
            applied_seq: instance.appliedSeq,
          })
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              heartbeat_at: instance.heartbeatAt,
              applied_seq: instance.appliedSeq,
            }),
          )
          .execute();
      const announceApplied = options.announceApplied;
      if (!announce || announceApplied === undefined) {
        await upsert(db);
        return;
      }
      await db.transaction().execute(async (trx) => {
        await upsert(trx);
        await announceApplied(trx);
      });
    },

    async listInstances() {
      const rows = await db.selectFrom('instances').selectAll().orderBy('id').execute();
      return rows.map((r) => ({
        id: r.id,
        startedAt: Number(r.started_at),
        heartbeatAt: Number(r.heartbeat_at),
        appliedSeq: Number(r.applied_seq),
      }));
    },

    async removeInstance(id, heartbeatAt) {
      let query = db.deleteFrom('instances').where('id', '=', id);
      if (heartbeatAt !== undefined) query = query.where('heartbeat_at', '=', heartbeatAt);
      await query.execute();
    },

    watch: (onSignal) => (options.watch ?? watchByPolling(db))(onSignal),

    async listSigningKeys() {
      const rows = await db
        .selectFrom('signing_keys')
        .selectAll()
        .orderBy('created_at')
        .orderBy('kid')
        .execute();
      return rows.map((r) => ({
        kid: r.kid,
        algorithm: r.algorithm,
        publicJwk: r.public_jwk,
        privateJwk: r.private_jwk,
        createdAt: Number(r.created_at),
        retiredAt: r.retired_at === null ? null : Number(r.retired_at),
      }));
    },

    async insertSigningKey(key) {
      await db
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          algorithm: key.algorithm,
          public_jwk: key.publicJwk,
          private_jwk: key.privateJwk,
          created_at: key.createdAt,
          retired_at: key.retiredAt,
        })
        .execute();
    },

    async insertFirstSigningKey(key) {
      // One INSERT … SELECT … WHERE NOT EXISTS statement. Under PostgreSQL's lock it sees a key
      // another instance committed meanwhile (READ COMMITTED takes a snapshot per statement).
      const insert = (q: Kysely<Database>) =>
        q
          .insertInto('signing_keys')
          .columns(['kid', 'algorithm', 'public_jwk', 'private_jwk', 'created_at', 'retired_at'])
          .expression(
            q
              .selectNoFrom((eb) => [
                eb.val(key.kid).as('kid'),
                eb.val(key.algorithm).as('algorithm'),
                eb.val(key.publicJwk).as('public_jwk'),
                eb.val(key.privateJwk).as('private_jwk'),
                eb.val(key.createdAt).as('created_at'),
                sql<null>`null`.as('retired_at'),
              ])
              .where((eb) =>
                eb.not(
                  eb.exists(
                    eb.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null),
                  ),
                ),
              ),
          )
          .execute();
      const serialise = options.serialiseKeyBootstrap;
      if (serialise === undefined) {
        await insert(db);
        return;
      }
      await db.transaction().execute(async (trx) => {
        await serialise(trx);
        await insert(trx);
      });
    },

    async replaceSigningKeyPrivateJwk(kid, current, next) {
      const row = await db
        .updateTable('signing_keys')
        .set({ private_jwk: next })
        .where('kid', '=', kid)
        .where('private_jwk', '=', current)
        .returning('kid')
        .executeTakeFirst();
      return row !== undefined;
    },

    async retireSigningKeysExcept(kid, now) {
      await db
        .updateTable('signing_keys')
        .set({ retired_at: now })
        .where('kid', '!=', kid)
        .where('retired_at', 'is', null)
        .execute();
    },

    async hitCounter(key, windowMs, now) {
      // One statement, so concurrent hits from several instances never lose a count.
      const row = await db
        .insertInto('throttle_counters')
        .values({ key, count: 1, window_ends_at: now + windowMs })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            count: sql<number>`case when throttle_counters.window_ends_at <= ${now} then 1 else throttle_counters.count + 1 end`,
            window_ends_at: sql<number>`case when throttle_counters.window_ends_at <= ${now} then ${now + windowMs} else throttle_counters.window_ends_at end`,
          }),
        )
        .returning(['count', 'window_ends_at'])
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), windowEndsAt: Number(row.window_ends_at) };
    },

    async readCounter(key, now) {
      const row = await db
        .selectFrom('throttle_counters')
        .select(['count', 'window_ends_at'])
        .where('key', '=', key)
        .where('window_ends_at', '>', now)
        .executeTakeFirst();
      return row && { count: Number(row.count), windowEndsAt: Number(row.window_ends_at) };
    },

    async deleteCounter(key) {
      await db.deleteFrom('throttle_counters').where('key', '=', key).execute();
    },

    async pruneExpired(now, auditRetentionMs) {
      await db
        .deleteFrom('audit_events')
        .where('created_at', '<', now - auditRetentionMs)
        .execute();
      await db.deleteFrom('throttle_counters').where('window_ends_at', '<=', now).execute();
      await db.deleteFrom('email_tokens').where('expires_at', '<=', now).execute();
      await db.deleteFrom('mfa_challenges').where('expires_at', '<=', now).execute();
      await db
        .deleteFrom('outbox')
        .where((eb) =>
          eb.or([
            eb('sent_at', '<=', now - KEEP_SENT_MAIL_MS),
            eb('failed_at', '<=', now - KEEP_SENT_MAIL_MS),
          ]),
        )
        .execute();
      await db.deleteFrom('refresh_tokens').where('expires_at', '<=', now).execute();
      const cutoff = now - KEEP_ENDED_SESSIONS_MS;
      await db
        .deleteFrom('sessions')
        .where((eb) =>
          eb.or([
            eb('revoked_at', '<=', cutoff),
            eb('expires_at', '<=', cutoff),
            eb('idle_expires_at', '<=', cutoff),
          ]),
        )
        .execute();
      await db
        .deleteFrom('revocations')
        .where('revoked_at', '<=', now - KEEP_REVOCATION_LOG_MS)
        .execute();
      await db
        .deleteFrom('instances')
        .where('heartbeat_at', '<=', now - FORGET_SILENT_INSTANCE_MS)
        .execute();
    },

    async ping() {
      await sql`select 1`.execute(db);
    },

    async close() {
      await db.destroy();
    },
  };
}
