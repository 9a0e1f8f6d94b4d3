/**
 * The Store contract (server/src/store/store.ts), checked method by method. Both databases run
 * this same file: `npm test` runs it on SQLite and again on PostgreSQL (LATCHKEY_TEST_DATABASE_URL).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { AuthError } from '../src/errors.ts';
import type {
  NewEmailToken,
  NewMail,
  NewSession,
  SessionRecord,
  SigningKeyRecord,
  Store,
  UserRecord,
} from '../src/store/store.ts';
import { withTimeout } from './support/server-process.ts';
import { createTestDatabase, openTestStore, testEngine } from './support/test-database.ts';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

/** Runs an operator command in its own process; bounded in time. */
function runCli(command: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, command], {
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output })),
  );
  return withTimeout(exited, 30_000, `latchkey ${command} did not finish`).finally(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
    }
  });
}

/** A realistic epoch-millisecond time: well past 2^32, as every stored time is. */
const T0 = Date.parse('2026-06-01T12:00:00Z');
const MINUTE = 60_000;
const DAY = 24 * 3600 * 1000;

let serial = 0;
const nextId = (prefix: string) => `${prefix}-${process.pid}-${++serial}`;

function newUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: crypto.randomUUID(),
    email: `${nextId('user')}@example.com`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    admin: false,
    createdAt: T0,
    emailVerifiedAt: null,
    disabledAt: null,
    lastLoginAt: null,
    ...overrides,
  };
}

function newSession(userId: string, overrides: Partial<NewSession> = {}): NewSession {
  return {
    id: crypto.randomUUID(),
    userId,
    createdAt: T0,
    expiresAt: T0 + 30 * DAY,
    idleExpiresAt: T0 + 14 * DAY,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0 ✓',
    ip: '127.0.0.1',
    ...overrides,
  };
}

function newKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = nextId('kid');
  return {
    kid,
    algorithm: 'EdDSA',
    publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: kid, kid }),
    privateJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: kid, d: 'secret', kid }),
    createdAt: T0,
    retiredAt: null,
    ...overrides,
  };
}

const activeKids = async (store: Store) =>
  (await store.listSigningKeys()).filter((k) => k.retiredAt === null).map((k) => k.kid);

describe(`store conformance (${testEngine})`, () => {
  let store: Store;
  before(async () => {
    store = await openTestStore();
  });
  after(() => store.close());

  /** A user with one session, whose refresh token hash is returned. */
  async function userWithSession(session: Partial<NewSession> = {}) {
    const user = newUser();
    assert.equal(await store.insertUser(user), true);
    const s = newSession(user.id, session);
    const tokenHash = nextId('hash');
    await store.createSession(s, { tokenHash, expiresAt: s.idleExpiresAt });
    return { user, session: s, tokenHash };
  }

  describe('users', () => {
    test('insertUser stores a user that both finders return with the same fields', async () => {
      const user = newUser({ admin: true, email: `${nextId('zoë')}@exämple.com` });
      assert.equal(await store.insertUser(user), true);
      assert.deepEqual(await store.findUserByEmail(user.email), user);
      assert.deepEqual(await store.findUserById(user.id), user);
      assert.equal(typeof (await store.findUserById(user.id))?.createdAt, 'number');
    });

    test('insertUser refuses a taken email with false and leaves the first user unchanged', async () => {
      const first = newUser();
      assert.equal(await store.insertUser(first), true);
      const second = newUser({ email: first.email, passwordHash: 'other', admin: true });
      assert.equal(await store.insertUser(second), false);
      assert.deepEqual(await store.findUserByEmail(first.email), first);
      assert.equal(await store.findUserById(second.id), undefined);
    });

    test('finders answer undefined for unknown users and compare emails exactly', async () => {
      const user = newUser({ email: `${nextId('case')}@example.com` });
      await store.insertUser(user);
      assert.equal(await store.findUserByEmail(user.email.toUpperCase()), undefined);
      assert.equal(await store.findUserByEmail(`x${user.email}`), undefined);
      assert.equal(await store.findUserById(crypto.randomUUID()), undefined);
    });

    test('replacePasswordHash changes that user’s hash only, and only from the current one', async () => {
      const a = newUser();
      const b = newUser();
      await store.insertUser(a);
      await store.insertUser(b);
      assert.equal(await store.replacePasswordHash(a.id, '$argon2id$stale', '$argon2id$x'), false);
      assert.equal((await store.findUserById(a.id))?.passwordHash, a.passwordHash);
      assert.equal(await store.replacePasswordHash(a.id, a.passwordHash, '$argon2id$new'), true);
      assert.equal((await store.findUserById(a.id))?.passwordHash, '$argon2id$new');
      assert.equal((await store.findUserById(b.id))?.passwordHash, b.passwordHash);
    });

    test('replacePasswordHash lets exactly one of 50 concurrent changes through', async () => {
      const user = newUser();
      await store.insertUser(user);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.replacePasswordHash(user.id, user.passwordHash, `$argon2id$next${i}`),
        ),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1);
      assert.equal(
        (await store.findUserById(user.id))?.passwordHash,
        `$argon2id$next${winners[0]}`,
      );
    });
  });

  describe('sessions and refresh tokens', () => {
    test('createSession stores the session and its first refresh token', async () => {
      const { user, session, tokenHash } = await userWithSession({ userAgent: null, ip: null });
      const expected: SessionRecord = {
        ...session,
        lastUsedAt: session.createdAt,
        revokedAt: null,
        userAgent: null,
        ip: null,
        amr: 'pwd',
      };
      assert.deepEqual(await store.findSession(session.id), expected);
      assert.deepEqual(await store.findRefreshToken(tokenHash), {
        tokenHash,
        sessionId: session.id,
        expiresAt: session.idleExpiresAt,
        supersededAt: null,
        successor: null,
        session: expected,
      });
      assert.equal(expected.userId, user.id);
    });

    test('createSession writes nothing when its refresh token cannot be stored', async () => {
      const { user, tokenHash } = await userWithSession();
      const clash = newSession(user.id);
      await assert.rejects(
        store.createSession(clash, { tokenHash, expiresAt: clash.idleExpiresAt }),
      );
      assert.equal(await store.findSession(clash.id), undefined);
      assert.deepEqual((await store.listLiveSessions(user.id, T0)).length, 1);
    });

    test('finders answer undefined for unknown sessions and refresh tokens', async () => {
      assert.equal(await store.findSession(crypto.randomUUID()), undefined);
      assert.equal(await store.findRefreshToken(nextId('nohash')), undefined);
    });

    test('rotateRefreshToken supersedes the old token, stores its successor and slides the session', async () => {
      const { session, tokenHash } = await userWithSession();
      const now = T0 + 5 * MINUTE;
      const newHash = nextId('hash');
      const rotated = await store.rotateRefreshToken({
        oldHash: tokenHash,
        newHash,
        sealedSuccessor: 'sealed successor',
        sessionId: session.id,
        now,
        newExpiresAt: now + 14 * DAY,
      });
      assert.equal(rotated, 'rotated');
      const old = await store.findRefreshToken(tokenHash);
      assert.equal(old?.supersededAt, now);
      assert.equal(old?.successor, 'sealed successor');
      const successor = await store.findRefreshToken(newHash);
      assert.equal(successor?.supersededAt, null);
      assert.equal(successor?.successor, null);
      assert.equal(successor?.expiresAt, now + 14 * DAY);
      assert.equal(successor?.session.lastUsedAt, now);
      assert.equal(successor?.session.idleExpiresAt, now + 14 * DAY);
      assert.equal(successor?.session.expiresAt, session.expiresAt);
    });

    test('rotateRefreshToken rotates a token once: of 30 parallel rotations one wins, the rest write nothing', async () => {
      const { session, tokenHash } = await userWithSession();
      const attempts = Array.from({ length: 30 }, (_, i) => ({
        newHash: nextId('hash'),
        sealed: `sealed ${i}`,
      }));
      const outcomes = await Promise.all(
        attempts.map(({ newHash, sealed }) =>
          store.rotateRefreshToken({
            oldHash: tokenHash,
            newHash,
            sealedSuccessor: sealed,
            sessionId: session.id,
            now: T0 + 1000,
            newExpiresAt: T0 + DAY,
          }),
        ),
      );
      assert.equal(outcomes.filter((o) => o === 'rotated').length, 1, String(outcomes));
      assert.equal(outcomes.filter((o) => o === 'superseded').length, 29);
      const winner = attempts[outcomes.indexOf('rotated')];
      assert.equal((await store.findRefreshToken(tokenHash))?.successor, winner?.sealed);
      for (const { newHash } of attempts) {
        const stored = await store.findRefreshToken(newHash);
        assert.equal(stored !== undefined, newHash === winner?.newHash);
      }
      const later = await store.rotateRefreshToken({
        oldHash: tokenHash,
        newHash: nextId('hash'),
        sealedSuccessor: 'too late',
        sessionId: session.id,
        now: T0 + 4000,
        newExpiresAt: T0 + DAY,
      });
      assert.equal(later, 'superseded');
      assert.equal((await store.findRefreshToken(tokenHash))?.supersededAt, T0 + 1000);
    });

    test('rotateRefreshToken on a revoked session answers ended and writes nothing', async () => {
      const { session, tokenHash } = await userWithSession();
      assert.notEqual((await store.revokeSession(session.id, T0 + 1000, 'signed_out')).seq, null);
      const newHash = nextId('hash');
      const rotated = await store.rotateRefreshToken({
        oldHash: tokenHash,
        newHash,
        sealedSuccessor: 'sealed',
        sessionId: session.id,
        now: T0 + 2000,
        newExpiresAt: T0 + DAY,
      });
      assert.equal(rotated, 'ended');
      assert.equal(await store.findRefreshToken(newHash), undefined);
      assert.equal((await store.findRefreshToken(tokenHash))?.supersededAt, null);
      assert.equal((await store.findSession(session.id))?.lastUsedAt, session.createdAt);
    });

    test('revokeSession revokes and logs once, then writes nothing, and stamps the revocation time', async () => {
      const { session } = await userWithSession();
      const before = await store.lastRevocationSeq();
      const first = await store.revokeSession(session.id, T0 + 1000, 'signed_out');
      assert.deepEqual(first.sessionIds, [session.id]);
      assert.ok(first.seq !== null && first.seq > before, `seq ${first.seq} after ${before}`);
      assert.equal(await store.lastRevocationSeq(), first.seq);
      assert.deepEqual(await store.listRevocationsAfter(before), [
        { seq: first.seq, sessionId: session.id, revokedAt: T0 + 1000 },
      ]);
      const nothing = { sessionIds: [], seq: null };
      assert.deepEqual(await store.revokeSession(session.id, T0 + 2000, 'signed_out'), nothing);
      assert.equal((await store.findSession(session.id))?.revokedAt, T0 + 1000);
      assert.deepEqual(await store.revokeSession(crypto.randomUUID(), T0, 'signed_out'), nothing);
      assert.equal(await store.lastRevocationSeq(), first.seq);
    });

    test('revokeUserSessions ends the user’s live sessions but one and returns their ids', async () => {
      const { user, session: keep } = await userWithSession();
      const others = [newSession(user.id), newSession(user.id), newSession(user.id)];
      for (const s of others) {
        await store.createSession(s, { tokenHash: nextId('hash'), expiresAt: s.idleExpiresAt });
      }
      const [alreadyEnded, ...live] = others;
      assert.ok(alreadyEnded);
      await store.revokeSession(alreadyEnded.id, T0 + 500, 'signed_out');
      const stranger = await userWithSession();

      const before = await store.lastRevocationSeq();
      const ended = await store.revokeUserSessions(user.id, keep.id, T0 + 1000, 'password_changed');
      assert.deepEqual(ended.sessionIds.sort(), live.map((s) => s.id).sort());
      // One log entry per session, the answer's seq the last of them.
      const logged = await store.listRevocationsAfter(before);
      assert.deepEqual(logged.map((r) => r.sessionId).sort(), ended.sessionIds);
      assert.equal(ended.seq, logged.at(-1)?.seq);
      assert.equal((await store.findSession(keep.id))?.revokedAt, null);
      assert.equal((await store.findSession(alreadyEnded.id))?.revokedAt, T0 + 500);
      assert.equal((await store.findSession(stranger.session.id))?.revokedAt, null);

      assert.deepEqual(
        (await store.revokeUserSessions(user.id, null, T0 + 2000, 'admin')).sessionIds,
        [keep.id],
      );
      assert.equal((await store.listLiveSessions(user.id, T0 + 2000)).length, 0);
    });

    test('listLiveSessions lists unrevoked, unexpired sessions, most recently used first', async () => {
      const { user, session: first, tokenHash } = await userWithSession();
      const add = async (overrides: Partial<NewSession>) => {
        const s = newSession(user.id, overrides);
        await store.createSession(s, { tokenHash: nextId('hash'), expiresAt: s.idleExpiresAt });
        return s;
      };
      const newer = await add({ createdAt: T0 + 1000 });
      const revoked = await add({});
      await store.revokeSession(revoked.id, T0 + 2000, 'signed_out');
      await add({ expiresAt: T0 + 10 * MINUTE }); // absolute end reached below
      await add({ idleExpiresAt: T0 + 10 * MINUTE }); // idle end reached below
      // Using the first session makes it the most recently used.
      await store.rotateRefreshToken({
        oldHash: tokenHash,
        newHash: nextId('hash'),
        sealedSuccessor: 'sealed',
        sessionId: first.id,
        now: T0 + 5000,
        newExpiresAt: T0 + 14 * DAY,
      });

      const live = await store.listLiveSessions(user.id, T0 + 10 * MINUTE);
      assert.deepEqual(
        live.map((s) => s.id),
        [first.id, newer.id],
      );
      assert.equal((await store.listLiveSessions(user.id, T0 + 1000)).length, 4);
    });

    test('listRevokedSince returns sessions revoked at or after the given time, with that time', async () => {
      const at = T0 + 90 * DAY; // later than every other revocation in this file
      const before = await userWithSession();
      const exact = await userWithSession();
      const later = await userWithSession();
      await userWithSession(); // never revoked
      await store.revokeSession(before.session.id, at - 1, 'signed_out');
      await store.revokeSession(exact.session.id, at, 'signed_out');
      await store.revokeSession(later.session.id, at + 1000, 'signed_out');
      const revoked = await store.listRevokedSince(at);
      assert.deepEqual(
        revoked.sort((a, b) => a.revokedAt - b.revokedAt),
        [
          { id: exact.session.id, revokedAt: at },
          { id: later.session.id, revokedAt: at + 1000 },
        ],
      );
    });
  });

  describe('revocation log and instances', () => {
    test('parallel revocations are logged with distinct seqs, and a reader following the log never skips one', async () => {
      const sessions = await Promise.all(Array.from({ length: 50 }, () => userWithSession()));
      const start = await store.lastRevocationSeq();
      // A reader as an instance runs it: "after the last seq I applied", over and over, while the
      // revocations commit. A number that committed after a higher one would be skipped for good.
      const seen = new Set<string>();
      let applied = start;
      let writing = true;
      const reader = (async () => {
        while (writing) {
          for (const entry of await store.listRevocationsAfter(applied)) {
            seen.add(entry.sessionId);
            applied = entry.seq;
          }
        }
      })();
      const results = await Promise.all(
        sessions.map(({ session }) => store.revokeSession(session.id, T0 + 5000, 'signed_out')),
      );
      writing = false;
      await reader;
      for (const entry of await store.listRevocationsAfter(applied)) seen.add(entry.sessionId);
      const seqs = results.map((r) => r.seq);
      assert.equal(new Set(seqs).size, 50, 'distinct seqs');
      assert.equal(seen.size, 50, `the reader saw ${seen.size} of 50 revocations`);
      const logged = await store.listRevocationsAfter(start);
      assert.deepEqual(
        logged.map((r) => r.seq),
        [...logged.map((r) => r.seq)].sort((a, b) => a - b),
      );
    });

    test('recordInstance creates then refreshes a row; removeInstance honours the heartbeat it is given', async () => {
      const id = crypto.randomUUID();
      const instance = { id, startedAt: T0, heartbeatAt: T0 + 1, appliedSeq: 3 };
      await store.recordInstance(instance, false);
      await store.recordInstance({ ...instance, heartbeatAt: T0 + 2, appliedSeq: 7 }, true);
      const mine = (await store.listInstances()).filter((i) => i.id === id);
      assert.deepEqual(mine, [{ id, startedAt: T0, heartbeatAt: T0 + 2, appliedSeq: 7 }]);
      await store.removeInstance(id, T0 + 1); // an older heartbeat: the instance lives on
      assert.equal((await store.listInstances()).filter((i) => i.id === id).length, 1);
      await store.removeInstance(id);
      assert.equal((await store.listInstances()).filter((i) => i.id === id).length, 0);
    });

    test('watch signals another connection’s revocation and announced heartbeat', async () => {
      const database = await createTestDatabase();
      const mine = await database.open();
      const theirs = await database.open();
      const signals: string[] = [];
      const watch = await mine.watch((signal) => signals.push(signal));
      try {
        const arrived = async (signal: string) => {
          const deadline = Date.now() + 5000;
          while (!signals.includes(signal)) {
            if (Date.now() > deadline)
              throw new Error(`no ${signal} signal; got ${String(signals)}`);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        };
        await new Promise((resolve) => setTimeout(resolve, 100)); // the watch is settled
        signals.length = 0;
        const user = newUser();
        await theirs.insertUser(user);
        const session = newSession(user.id);
        await theirs.createSession(session, { tokenHash: nextId('hash'), expiresAt: T0 + DAY });
        await theirs.revokeSession(session.id, T0 + 1000, 'signed_out');
        await arrived('revoked');
        await theirs.recordInstance(
          { id: crypto.randomUUID(), startedAt: T0, heartbeatAt: T0, appliedSeq: 1 },
          true,
        );
        await arrived('applied');
      } finally {
        await watch.close();
        await mine.close();
        await theirs.close();
        await database.remove();
      }
    });
  });

  describe('throttle counters', () => {
    test('hitCounter counts hits within a window and starts a new one when it has ended', async () => {
      const key = nextId('counter');
      assert.deepEqual(await store.hitCounter(key, MINUTE, T0), {
        count: 1,
        windowEndsAt: T0 + MINUTE,
      });
      assert.deepEqual(await store.hitCounter(key, MINUTE, T0 + 1000), {
        count: 2,
        windowEndsAt: T0 + MINUTE,
      });
      assert.deepEqual(await store.hitCounter(key, MINUTE, T0 + MINUTE - 1), {
        count: 3,
        windowEndsAt: T0 + MINUTE,
      });
      // The window is over at its end: the next hit opens a new window.
      assert.deepEqual(await store.hitCounter(key, MINUTE, T0 + MINUTE), {
        count: 1,
        windowEndsAt: T0 + 2 * MINUTE,
      });
    });

    test('hitCounter loses no hit when many arrive at once', async () => {
      const key = nextId('counter');
      const states = await Promise.all(
        Array.from({ length: 25 }, () => store.hitCounter(key, MINUTE, T0)),
      );
      assert.deepEqual(
        states.map((s) => s.count).sort((a, b) => a - b),
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      assert.equal((await store.readCounter(key, T0))?.count, 25);
    });

    test('readCounter shows a live window only; deleteCounter clears it; keys are separate', async () => {
      const key = nextId('counter');
      const other = nextId('counter');
      assert.equal(await store.readCounter(key, T0), undefined);
      await store.hitCounter(key, MINUTE, T0);
      await store.hitCounter(key, MINUTE, T0);
      await store.hitCounter(other, MINUTE, T0);
      assert.deepEqual(await store.readCounter(key, T0 + 1000), {
        count: 2,
        windowEndsAt: T0 + MINUTE,
      });
      assert.equal(await store.readCounter(key, T0 + MINUTE), undefined);
      await store.deleteCounter(key);
      assert.equal(await store.readCounter(key, T0), undefined);
      assert.equal((await store.readCounter(other, T0))?.count, 1);
    });
  });

  describe('pruning', () => {
    test('pruneExpired drops expired refresh tokens and sessions ended over a day ago, and nothing live', async () => {
      const now = T0 + 60 * DAY;
      const live = await userWithSession({ expiresAt: now + DAY, idleExpiresAt: now + DAY });
      const revokedLongAgo = await userWithSession({
        expiresAt: now + DAY,
        idleExpiresAt: now + DAY,
      });
      await store.revokeSession(revokedLongAgo.session.id, now - DAY - 1, 'signed_out');
      const revokedRecently = await userWithSession({
        expiresAt: now + DAY,
        idleExpiresAt: now + DAY,
      });
      await store.revokeSession(revokedRecently.session.id, now - 1000, 'signed_out');
      const expiredLongAgo = await userWithSession(); // expires at T0 + 30 days
      const idleLongAgo = await userWithSession({ expiresAt: now + DAY }); // idle end T0 + 14 days
      const liveCounter = nextId('counter');
      await store.hitCounter(liveCounter, MINUTE, now);
      const endedCounter = nextId('counter');
      await store.hitCounter(endedCounter, MINUTE, now - MINUTE);
      const silent = { id: crypto.randomUUID(), startedAt: T0, heartbeatAt: now - 3600_000 };
      const alive = { id: crypto.randomUUID(), startedAt: T0, heartbeatAt: now - 60_000 };
      await store.recordInstance({ ...silent, appliedSeq: 0 }, false);
      await store.recordInstance({ ...alive, appliedSeq: 0 }, false);
      const oldLog = await userWithSession({ expiresAt: now + DAY, idleExpiresAt: now + DAY });
      const oldEntry = await store.revokeSession(oldLog.session.id, now - 2 * DAY, 'signed_out');
      const recentEntry = (await store.listRevocationsAfter(0)).find(
        (r) => r.sessionId === revokedRecently.session.id,
      );

      await store.pruneExpired(now, 90 * DAY);

      // The log keeps two days (longer than any access token lives); a silent hour forgets an instance.
      const log = await store.listRevocationsAfter(0);
      assert.equal(
        log.some((r) => r.seq === oldEntry.seq),
        false,
      );
      assert.equal(
        log.some((r) => r.seq === recentEntry?.seq),
        true,
      );
      const instances = (await store.listInstances()).map((i) => i.id);
      assert.equal(instances.includes(silent.id), false);
      assert.equal(instances.includes(alive.id), true);

      assert.notEqual(await store.findSession(live.session.id), undefined);
      assert.notEqual(await store.findRefreshToken(live.tokenHash), undefined);
      assert.notEqual(await store.findSession(revokedRecently.session.id), undefined);
      assert.equal(await store.findSession(revokedLongAgo.session.id), undefined);
      assert.equal(await store.findSession(expiredLongAgo.session.id), undefined);
      assert.equal(await store.findRefreshToken(expiredLongAgo.tokenHash), undefined);
      assert.equal(await store.findSession(idleLongAgo.session.id), undefined);
      assert.equal((await store.readCounter(liveCounter, now))?.count, 1);
      // An ended window restarts from one either way; pruning must not disturb that.
      assert.equal((await store.hitCounter(endedCounter, MINUTE, now)).count, 1);
      // Users are never pruned.
      assert.notEqual(await store.findUserById(expiredLongAgo.user.id), undefined);
    });
  });

  describe('email tokens and the outbox', () => {
    const token = (userId: string, email: string, overrides: Partial<NewEmailToken> = {}) => ({
      tokenHash: nextId('email-token'),
      purpose: 'verify' as const,
      userId,
      email,
      createdAt: T0,
      expiresAt: T0 + DAY,
      ...overrides,
    });
    const mail = (overrides: Partial<NewMail> = {}): NewMail => ({
      id: crypto.randomUUID(),
      recipient: `${nextId('to')}@example.com`,
      subject: 'subject',
      body: 'the body',
      createdAt: T0,
      ...overrides,
    });

    test('insertUser with a verification writes the user, its token and its mail together', async () => {
      const user = newUser();
      const t1 = token(user.id, user.email);
      const m1 = mail({ recipient: user.email });
      assert.equal(await store.insertUser(user, { token: t1, mail: m1 }), true);
      assert.deepEqual(await store.findEmailToken(t1.tokenHash, 'verify', T0), {
        userId: user.id,
        email: user.email,
      });
      // A taken email writes neither the token nor the mail.
      const t2 = token(crypto.randomUUID(), user.email);
      const other = newUser({ email: user.email });
      assert.equal(await store.insertUser(other, { token: t2, mail: mail() }), false);
      assert.equal(await store.findEmailToken(t2.tokenHash, 'verify', T0), undefined);
    });

    test('issueEmailToken retires older unused tokens of the same purpose and account only', async () => {
      const user = newUser();
      await store.insertUser(user);
      const older = token(user.id, user.email);
      const reset = token(user.id, user.email, { purpose: 'reset' });
      await store.issueEmailToken(older, []);
      await store.issueEmailToken(reset, []);
      const newer = token(user.id, user.email);
      await store.issueEmailToken(newer, [mail()]);
      assert.equal(await store.findEmailToken(older.tokenHash, 'verify', T0), undefined);
      assert.notEqual(await store.findEmailToken(newer.tokenHash, 'verify', T0), undefined);
      assert.notEqual(await store.findEmailToken(reset.tokenHash, 'reset', T0), undefined);
      assert.equal(await store.findEmailToken(newer.tokenHash, 'reset', T0), undefined, 'purpose');
      assert.equal(await store.findEmailToken(newer.tokenHash, 'verify', T0 + DAY), undefined);
    });

    test('verifyEmail: of 20 parallel spends of one token exactly one verifies', async () => {
      const user = newUser();
      await store.insertUser(user);
      const t1 = token(user.id, user.email);
      await store.issueEmailToken(t1, []);
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => store.verifyEmail(t1.tokenHash, T0 + 1000)),
      );
      assert.deepEqual(
        outcomes.filter((o) => o !== undefined),
        [user.id],
      );
      assert.equal((await store.findUserById(user.id))?.emailVerifiedAt, T0 + 1000);
    });

    test('a verify or reset token sent to an address the account no longer has works no more', async () => {
      const user = newUser();
      await store.insertUser(user);
      const verify = token(user.id, user.email);
      const reset = token(user.id, user.email, { purpose: 'reset' });
      await store.issueEmailToken(verify, []);
      await store.issueEmailToken(reset, []);
      const newEmail = `${nextId('moved')}@example.com`;
      const change = token(user.id, newEmail, { purpose: 'change' });
      await store.issueEmailToken(change, []);
      assert.deepEqual(await store.confirmEmailChange(change.tokenHash, T0 + 1000), {
        userId: user.id,
        email: newEmail,
        previousEmail: user.email,
      });
      assert.equal(await store.findEmailToken(verify.tokenHash, 'verify', T0 + 2000), undefined);
      assert.equal(await store.verifyEmail(verify.tokenHash, T0 + 2000), undefined);
      assert.equal(await store.resetPassword(reset.tokenHash, '$argon2id$x', T0 + 2000), undefined);
      const moved = await store.findUserById(user.id);
      assert.equal(moved?.email, newEmail);
      assert.equal(moved?.emailVerifiedAt, T0 + 1000);
      assert.equal(moved?.passwordHash, user.passwordHash);
    });

    test('resetPassword sets the hash, verifies, and revokes and logs every session, once of 20', async () => {
      const { user, session } = await userWithSession();
      const second = newSession(user.id);
      await store.createSession(second, { tokenHash: nextId('hash'), expiresAt: T0 + DAY });
      const reset = token(user.id, user.email, { purpose: 'reset' });
      await store.issueEmailToken(reset, []);
      const before = await store.lastRevocationSeq();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.resetPassword(reset.tokenHash, `$argon2id$new-${i}`, T0 + 5000),
        ),
      );
      const done = outcomes.filter((o) => o !== undefined);
      assert.equal(done.length, 1);
      assert.deepEqual(done[0]?.revoked.sessionIds.sort(), [session.id, second.id].sort());
      const after = await store.findUserById(user.id);
      assert.equal(
        after?.passwordHash,
        `$argon2id$new-${outcomes.findIndex((o) => o !== undefined)}`,
      );
      assert.equal(after?.emailVerifiedAt, T0 + 5000);
      assert.equal((await store.findSession(session.id))?.revokedAt, T0 + 5000);
      const log = await store.listRevocationsAfter(before);
      assert.deepEqual(log.map((r) => r.sessionId).sort(), [session.id, second.id].sort());
    });

    test('confirmEmailChange answers taken, and spends nothing, when the address was taken meanwhile', async () => {
      const user = newUser();
      await store.insertUser(user);
      const wanted = `${nextId('wanted')}@example.com`;
      const change = token(user.id, wanted, { purpose: 'change' });
      await store.issueEmailToken(change, []);
      const squatter = newUser({ email: wanted });
      await store.insertUser(squatter);
      assert.equal(await store.confirmEmailChange(change.tokenHash, T0 + 1000), 'taken');
      assert.equal((await store.findUserById(user.id))?.email, user.email);
      assert.notEqual(await store.findEmailToken(change.tokenHash, 'change', T0 + 1000), undefined);
    });

    test('two accounts confirming one address at once: one gets it, the other is told taken', async () => {
      const wanted = `${nextId('race')}@example.com`;
      const changes = [];
      for (let i = 0; i < 2; i++) {
        const user = newUser();
        await store.insertUser(user);
        const change = token(user.id, wanted, { purpose: 'change' });
        await store.issueEmailToken(change, []);
        changes.push(change);
      }
      const outcomes = await Promise.all(
        changes.map((c) => store.confirmEmailChange(c.tokenHash, T0 + 1000)),
      );
      assert.equal(outcomes.filter((o) => o === 'taken').length, 1, JSON.stringify(outcomes));
      assert.equal(outcomes.filter((o) => typeof o === 'object').length, 1);
    });

    /** Marks every mail earlier tests queued as sent: the outbox is shared by the suite. */
    const drainOutbox = async () => {
      for (;;) {
        const claimed = await store.claimMail(T0 + 1000 * DAY, MINUTE);
        if (claimed === undefined) return;
        await store.recordMailSent(claimed.id, T0);
      }
    };

    test('confirmEmailChange: of 20 parallel spends of one token exactly one changes the email', async () => {
      const user = newUser();
      await store.insertUser(user);
      const wanted = `${nextId('parallel')}@example.com`;
      const change = token(user.id, wanted, { purpose: 'change' });
      await store.issueEmailToken(change, []);
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => store.confirmEmailChange(change.tokenHash, T0 + 1000)),
      );
      assert.equal(
        outcomes.filter((o) => typeof o === 'object').length,
        1,
        JSON.stringify(outcomes),
      );
      assert.equal(outcomes.filter((o) => o === undefined).length, 19);
      assert.equal((await store.findUserById(user.id))?.email, wanted);
    });

    test('confirmTotp and acceptTotpStep: of 20 parallel calls with one step exactly one wins', async () => {
      const user = newUser();
      await store.insertUser(user);
      assert.equal(await store.saveTotpSecret(user.id, 'sealed secret', T0), true);
      const audit = { at: T0, events: [] };
      const confirmed = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.confirmTotp(user.id, 100, [nextId(`code-${i}`)], T0, audit),
        ),
      );
      assert.equal(confirmed.filter(Boolean).length, 1);
      assert.equal(await store.countRecoveryCodes(user.id), 1);
      assert.equal(await store.saveTotpSecret(user.id, 'another', T0), false, 'confirmed stays');
      const accepted = await Promise.all(
        Array.from({ length: 20 }, () => store.acceptTotpStep(user.id, 101)),
      );
      assert.equal(accepted.filter(Boolean).length, 1);
      assert.equal(await store.acceptTotpStep(user.id, 100), false, 'an earlier step');
      assert.equal((await store.findTotp(user.id))?.lastStep, 101);
    });

    test('spendMfaChallenge: of 20 parallel spends of one pending sign-in exactly one wins', async () => {
      const user = newUser();
      await store.insertUser(user);
      const tokenHash = nextId('challenge');
      await store.createMfaChallenge({
        tokenHash,
        userId: user.id,
        createdAt: T0,
        expiresAt: T0 + MINUTE,
      });
      assert.equal(await store.findMfaChallenge(tokenHash, T0 + 1000), user.id);
      const spent = await Promise.all(
        Array.from({ length: 20 }, () => store.spendMfaChallenge(tokenHash, T0 + 1000)),
      );
      assert.equal(spent.filter(Boolean).length, 1);
      assert.equal(await store.findMfaChallenge(tokenHash, T0 + 1000), undefined);
      const late = nextId('challenge');
      await store.createMfaChallenge({
        tokenHash: late,
        userId: user.id,
        createdAt: T0,
        expiresAt: T0 + MINUTE,
      });
      assert.equal(await store.spendMfaChallenge(late, T0 + MINUTE), false, 'expired');
    });

    test('claimMail: of 20 parallel claims of one due mail exactly one gets it, until its claim ends', async () => {
      await drainOutbox();
      const due = mail({ createdAt: T0 });
      await store.enqueueMails([due]);
      const claims = await Promise.all(
        Array.from({ length: 20 }, () => store.claimMail(T0 + 1000, MINUTE)),
      );
      const mine = claims.filter((c) => c?.id === due.id);
      assert.equal(mine.length, 1);
      assert.deepEqual(mine[0], {
        id: due.id,
        recipient: due.recipient,
        subject: due.subject,
        body: due.body,
        attempts: 1,
      });
      assert.equal((await store.claimMail(T0 + 2000, MINUTE))?.id === due.id, false);
      // A sender that died: its claim ends and another sender takes the mail up again.
      const again = await store.claimMail(T0 + 1000 + MINUTE, MINUTE);
      assert.equal(again?.id, due.id);
      assert.equal(again.attempts, 2);
      await store.recordMailSent(due.id, T0 + 2 * MINUTE);
      assert.equal((await store.claimMail(T0 + 10 * MINUTE, MINUTE))?.id === due.id, false);
    });

    test('recordMailFailure retries at the time given, or gives up', async () => {
      await drainOutbox();
      const retried = mail({ createdAt: T0 - 10 * DAY });
      const abandoned = mail({ createdAt: T0 - 10 * DAY + 1 });
      await store.enqueueMails([retried, abandoned]);
      const ids = new Set([retried.id, abandoned.id]);
      const claimed = [];
      for (let i = 0; i < 2; i++) {
        const claim = await store.claimMail(T0, MINUTE);
        assert.ok(claim !== undefined && ids.has(claim.id), 'the oldest due mails come first');
        claimed.push(claim.id);
      }
      await store.recordMailFailure(retried.id, T0, T0 + 10_000, 'SMTP 451');
      await store.recordMailFailure(abandoned.id, T0, null, 'SMTP 550');
      const early = await store.claimMail(T0 + 5000, MINUTE);
      assert.equal(early !== undefined && ids.has(early.id), false);
      const later = await store.claimMail(T0 + 10_000, MINUTE);
      assert.equal(later?.id, retried.id);
      const never = await store.claimMail(T0 + DAY, MINUTE);
      assert.equal(never?.id === abandoned.id, false);
    });

    test('acquireLease: of 20 parallel holders one gets the lease; it renews for its holder only', async () => {
      const name = nextId('lease');
      const holders = Array.from({ length: 20 }, (_, i) => `holder-${i}`);
      const got = await Promise.all(holders.map((h) => store.acquireLease(name, h, T0, 10_000)));
      assert.equal(got.filter(Boolean).length, 1);
      const holder = holders[got.indexOf(true)] ?? '';
      assert.equal(await store.acquireLease(name, holder, T0 + 5000, 10_000), true, 'renewed');
      assert.equal(await store.acquireLease(name, 'someone else', T0 + 14_000, 10_000), false);
      assert.equal(await store.acquireLease(name, 'someone else', T0 + 15_000, 10_000), true);
      // Handing it back (a lease that ends now) lets anyone take it at once.
      assert.equal(await store.acquireLease(name, 'someone else', T0 + 16_000, 0), true);
      assert.equal(await store.acquireLease(name, holder, T0 + 16_000, 10_000), true);
    });
  });

  test('ping resolves while the database answers', async () => {
    await store.ping();
  });
});

describe(`signing keys (${testEngine})`, () => {
  test('insertFirstSigningKey inserts into an empty table, then does nothing while a key is active', async (ctx) => {
    const store = await openTestStore();
    ctx.after(() => store.close());
    assert.deepEqual(await store.listSigningKeys(), []);
    const first = newKey();
    await store.insertFirstSigningKey(first);
    await store.insertFirstSigningKey(newKey());
    assert.deepEqual(await store.listSigningKeys(), [first]);

    await store.retireSigningKeysExcept('none', T0 + 1000);
    const afterRetirement = newKey({ createdAt: T0 + 2000 });
    await store.insertFirstSigningKey(afterRetirement);
    assert.deepEqual(await activeKids(store), [afterRetirement.kid]);
  });

  test('insertSigningKey and retireSigningKeysExcept rotate keys; the list is oldest first', async (ctx) => {
    const store = await openTestStore();
    ctx.after(() => store.close());
    const old = newKey({ createdAt: T0 });
    const newer = newKey({ createdAt: T0 + 1000 });
    await store.insertSigningKey(newer);
    await store.insertSigningKey(old);
    await store.retireSigningKeysExcept(newer.kid, T0 + 2000);
    assert.deepEqual(await store.listSigningKeys(), [{ ...old, retiredAt: T0 + 2000 }, newer]);
    // Retiring again keeps the first retirement time.
    await store.retireSigningKeysExcept(newer.kid, T0 + 9000);
    assert.equal((await store.listSigningKeys())[0]?.retiredAt, T0 + 2000);
  });

  test('replaceSigningKeyPrivateJwk replaces only the current value, once among parallel calls', async (ctx) => {
    const store = await openTestStore();
    ctx.after(() => store.close());
    const key = newKey();
    await store.insertSigningKey(key);
    assert.equal(await store.replaceSigningKeyPrivateJwk(key.kid, 'stale', 'sealed'), false);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.replaceSigningKeyPrivateJwk(key.kid, key.privateJwk, `sealed ${i}`),
      ),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const stored = (await store.listSigningKeys())[0];
    assert.equal(stored?.privateJwk, `sealed ${results.indexOf(true)}`);
    assert.equal(stored?.publicJwk, key.publicJwk);
  });

  test('insertFirstSigningKey from several stores at once leaves exactly one active key', async (ctx) => {
    const database = await createTestDatabase();
    ctx.after(() => database.remove());
    // Opened one by one: opening together is the migration test's subject, not this one's.
    const stores: Store[] = [];
    for (let i = 0; i < 4; i++) stores.push(await database.open());
    ctx.after(() => Promise.all(stores.map((s) => s.close())));
    for (let round = 0; round < 5; round++) {
      await Promise.all(stores.map((s) => s.insertFirstSigningKey(newKey())));
      const active = await activeKids(stores[0] as Store);
      assert.equal(active.length, 1, `round ${round}: active keys ${active.join(', ')}`);
      await (stores[0] as Store).retireSigningKeysExcept('none', T0 + round);
    }
  });
});

describe(`migrations and failures (${testEngine})`, () => {
  test('opening a database again keeps its data and applies nothing twice', async (ctx) => {
    const database = await createTestDatabase();
    ctx.after(() => database.remove());
    const first = await database.open();
    const user = newUser();
    await first.insertUser(user);
    await first.close();
    const second = await database.open();
    ctx.after(() => second.close());
    assert.deepEqual(await second.findUserById(user.id), user);
  });

  test('several processes migrating an empty database at once all succeed', async (ctx) => {
    // Separate processes, as separate server instances are: node:sqlite waits for a lock
    // synchronously, so two connections in one process cannot wait for each other.
    const database = await createTestDatabase();
    ctx.after(() => database.remove());
    const runs = await Promise.all([1, 2, 3, 4].map(() => runCli('migrate', database.env)));
    for (const run of runs) {
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /Database is up to date/);
    }
    const store = await database.open();
    ctx.after(() => store.close());
    const user = newUser();
    assert.equal(await store.insertUser(user), true);
    assert.deepEqual(await store.findUserById(user.id), user);
  });

  test('a write held up past the statement timeout fails with service_unavailable, in time', async (ctx) => {
    const database = await createTestDatabase();
    ctx.after(() => database.remove());
    const timeoutMs = 300;
    const store = await database.open({ DATABASE_STATEMENT_TIMEOUT_MS: String(timeoutMs) });
    ctx.after(() => store.close());
    const release = await database.lockUsersTable();
    const startedAt = performance.now();
    try {
      await assert.rejects(store.insertUser(newUser()), (error: unknown) => {
        assert.ok(error instanceof AuthError, `expected an AuthError, got ${String(error)}`);
        assert.equal(error.code, 'service_unavailable');
        return true;
      });
    } finally {
      await release();
    }
    const elapsed = performance.now() - startedAt;
    assert.ok(elapsed < 2 * timeoutMs + 500, `failed after ${Math.round(elapsed)} ms`);
    // Once the lock is gone the same store works again.
    assert.equal(await store.insertUser(newUser()), true);
  });
});
