import { AuthError } from '../errors.ts';
import type { Store, UserRecord } from '../store/store.ts';
import { checkPassword } from './check-password.ts';
import type { Clock } from './clock.ts';
import {
  describeEmailProblem,
  describePasswordProblem,
  normalizeEmail,
  normalizePassword,
} from './credential-rules.ts';
import type { EmailLinks } from './email-links.ts';
import type { FactorProof, SecondFactors } from './second-factors.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { auditOf, type RecordSecurityEvent, type SecurityEvent } from './security-events.ts';
import type { ClientInfo, IssuedSession, Sessions } from './sessions.ts';

/** What the status page shows; never the password hash. */
export interface PublicUser {
  id: string;
  email: string;
  admin: boolean;
  emailVerified: boolean;
  createdAt: number;
  /** `createdAt` as ISO 8601 UTC, formatted once (the status answer is the hot path). */
  registeredOn: string;
}

export interface AccountsOptions {
  store: Store;
  clock: Clock;
  hasher: PasswordHasher;
  loginThrottle: LoginThrottle;
  sessions: Sessions;
  recordEvent: RecordSecurityEvent;
  links: EmailLinks;
  secondFactors: SecondFactors;
  /** REQUIRE_EMAIL_VERIFICATION: no session until the address is verified. */
  requireVerification: boolean;
  /** Mail was queued: deliver soon. */
  onMailQueued: () => void;
}

export interface Accounts {
  /**
   * Creates the account, with its verification mail in the same transaction, and signs in;
   * null under REQUIRE_EMAIL_VERIFICATION (no session until the address is verified).
   */
  register(email: string, password: string, client: ClientInfo): Promise<IssuedSession | null>;
  /**
   * Signs in. `deviceToken` is the login's device cookie, if any: a live one of this account lets
   * the attempt count against the cookie instead of the account (lockout cannot be turned against
   * the owner). The answer carries the device cookie to set.
   */
  logIn(
    email: string,
    password: string,
    client: ClientInfo,
    deviceToken?: string,
  ): Promise<(IssuedSession & { deviceToken: string }) | { mfaToken: string }>;
  /**
   * Finishes a sign-in that stopped at the second factor (the pending token of `logIn`); the
   * session records `amr` pwd + otp + mfa (RFC 8176).
   */
  completeLogIn(mfaToken: string, proof: FactorProof, client: ClientInfo): Promise<IssuedSession>;
  /** Changes the password and ends every other session of the user. */
  changePassword(
    userId: string,
    sessionId: string,
    current: string,
    next: string,
    client: ClientInfo,
    proof?: FactorProof,
  ): Promise<void>;
  /** The user behind a valid access token. */
  findUser(userId: string): Promise<PublicUser>;
  /** Drops this instance's cached copy of a user whose email or verified state changed. */
  forgetUser(userId: string): void;
}

/**
 * Users are read on every status request, so the public part of each is kept in memory for a
 * short time. This instance forgets its copy when it changes the email or its verified state;
 * another instance shows such a change, and an admin flag set by an operator, within this delay.
 */
const USER_CACHE_MS = 30_000;
const USER_CACHE_SIZE = 10_000;

const toPublic = (user: UserRecord): PublicUser => ({
  id: user.id,
  email: user.email,
  admin: user.admin,
  emailVerified: user.emailVerifiedAt !== null,
  createdAt: user.createdAt,
  registeredOn: new Date(user.createdAt).toISOString(),
});

/** Registration, login and password change: the rules around the password. */
export function createAccounts(options: AccountsOptions): Accounts {
  const { store, clock, hasher, loginThrottle, sessions, recordEvent, links } = options;
  const userCache = new Map<string, { user: PublicUser; cachedAt: number }>();

  const checkNewCredentials = (email: string, password: string, passwordField: string) => {
    const fields: Record<string, string> = {};
    const emailProblem = describeEmailProblem(email);
    if (emailProblem !== undefined) fields['email'] = emailProblem;
    const passwordProblem = describePasswordProblem(password);
    if (passwordProblem !== undefined) fields[passwordField] = passwordProblem;
    if (Object.keys(fields).length > 0) {
      throw new AuthError('validation_failed', {
        fields,
        message: Object.values(fields).join(' '),
      });
    }
  };

  /** An event that goes with no change (a refused attempt): the audit log, then the log line. */
  const recordRefusal = async (event: SecurityEvent) => {
    await store.recordAuditEvents(auditOf(clock.now(), event));
    recordEvent(event);
  };

  /** `reserve`, or the event of a throttled attempt and its AuthError `rate_limited`. */
  const reserveOrRecord = async <T>(
    reserve: () => Promise<T>,
    event: Omit<SecurityEvent, 'reason'>,
  ): Promise<T> => {
    try {
      return await reserve();
    } catch (error) {
      if (error instanceof AuthError && error.code === 'rate_limited') {
        await recordRefusal({ ...event, reason: 'throttled' });
      }
      throw error;
    }
  };

  const passwordMatches = (user: UserRecord | undefined, password: string) =>
    checkPassword(hasher, user, password);

  return {
    async register(rawEmail, password, client) {
      const email = normalizeEmail(rawEmail);
      checkNewCredentials(email, password, 'password');
      const user: UserRecord = {
        id: crypto.randomUUID(),
        email,
        passwordHash: await hasher.hash(normalizePassword(password)),
        admin: false,
        createdAt: clock.now(),
        emailVerifiedAt: null,
        disabledAt: null,
        lastLoginAt: null,
      };
      // The verification mail and the audit event are recorded with the account (v2 contract:
      // in the same transaction); the mail is delivered in the background.
      const link = links.issue('verify', user.id, user.email);
      const registered: SecurityEvent = {
        type: 'registered',
        userId: user.id,
        ip: client.ip,
        userAgent: client.userAgent,
      };
      if (!(await store.insertUser(user, link, auditOf(user.createdAt, registered)))) {
        throw new AuthError('email_taken');
      }
      options.onMailQueued();
      if (options.requireVerification) {
        recordEvent(registered);
        return null;
      }
      const issued = await sessions.start(user.id, client);
      recordEvent({ ...registered, sessionId: issued.sessionId });
      return issued;
    },

    async logIn(rawEmail, password, client, deviceToken) {
      const email = normalizeEmail(rawEmail);
      const user =
        describeEmailProblem(email) === undefined ? await store.findUserByEmail(email) : undefined;
      const subject = { userId: user?.id ?? null, ip: client.ip, userAgent: client.userAgent };
      const pass = await reserveOrRecord(
        () =>
          loginThrottle.reserveAttempt(
            email,
            deviceToken === undefined ? undefined : { token: deviceToken, userId: user?.id },
          ),
        { type: 'login_failed', ...subject },
      );
      if (!(await passwordMatches(user, password)) || user === undefined) {
        await recordRefusal({
          type: 'login_failed',
          ...subject,
          reason: user === undefined ? 'unknown_account' : 'bad_password',
        });
        throw new AuthError('invalid_credentials');
      }
      await loginThrottle.recordSuccess(email);
      // Only after the right password: a wrong one still answers 401, so nothing is revealed.
      if (user.disabledAt !== null) {
        await recordRefusal({ type: 'login_failed', ...subject, reason: 'disabled' });
        throw new AuthError('account_disabled');
      }
      if (options.requireVerification && user.emailVerifiedAt === null) {
        await recordRefusal({ type: 'login_failed', ...subject, reason: 'unverified' });
        throw new AuthError('email_not_verified');
      }
      // A second factor: no session yet, only a short single-use pending sign-in, which a stolen
      // password alone cannot turn into anything (issue 13).
      if (await options.secondFactors.isEnrolled(user.id)) {
        return { mfaToken: await options.secondFactors.startSignIn(user.id) };
      }
      const device = await loginThrottle.rememberDevice(user.id, pass);
      if (hasher.needsRehash(user.passwordHash)) {
        // Only over the hash just verified: a password changed meanwhile is never overwritten.
        // Best effort: with the hashing line full, the upgrade waits for a later login rather
        // than fail this one.
        const upgraded = await hasher.hash(normalizePassword(password)).catch((error: unknown) => {
          if (error instanceof AuthError && error.code === 'service_unavailable') return undefined;
          throw error;
        });
        if (upgraded !== undefined) {
          await store.replacePasswordHash(user.id, user.passwordHash, upgraded);
        }
      }
      const issued = await sessions.start(user.id, client, { type: 'login_succeeded', ...subject });
      return { ...issued, deviceToken: device };
    },

    async completeLogIn(mfaToken, proof, client) {
      const { userId, method } = await options.secondFactors.completeSignIn(
        mfaToken,
        proof,
        client,
      );
      const user = await store.findUserById(userId);
      if (user === undefined || user.disabledAt !== null) throw new AuthError('invalid_mfa_token');
      return sessions.start(
        userId,
        client,
        {
          type: 'login_succeeded',
          userId,
          ip: client.ip,
          userAgent: client.userAgent,
          reason: method,
        },
        'pwd otp mfa',
      );
    },

    async changePassword(userId, sessionId, current, next, client, proof = {}) {
      const user = await store.findUserById(userId);
      if (user === undefined) throw new AuthError('invalid_token');
      // Step-up: with a second factor, a fresh check of it is part of the change (issue 13).
      if (await options.secondFactors.isEnrolled(userId)) {
        await options.secondFactors.verify(userId, proof, client);
      }
      const subject = {
        type: 'password_change_failed',
        userId,
        sessionId,
        ip: client.ip,
        userAgent: client.userAgent,
      } as const;
      // The same account limit as login: a stolen access token must not be a way around it.
      await reserveOrRecord(() => loginThrottle.reserveAttempt(user.email), subject);
      if (!(await passwordMatches(user, current))) {
        await recordRefusal({ ...subject, reason: 'bad_password' });
        throw new AuthError('invalid_credentials');
      }
      await loginThrottle.recordSuccess(user.email);
      const problem = describePasswordProblem(next);
      if (problem !== undefined) {
        throw new AuthError('validation_failed', {
          fields: { new_password: problem },
          message: problem,
        });
      }
      // Compare-and-set against the hash the current password was checked with: of concurrent
      // changes made with the same current password exactly one wins; the others answer as if
      // the current password were wrong (it no longer is the current one).
      const changed: SecurityEvent = { ...subject, type: 'password_changed' };
      const replaced = await store.replacePasswordHash(
        user.id,
        user.passwordHash,
        await hasher.hash(normalizePassword(next)),
        auditOf(clock.now(), changed),
      );
      if (!replaced) {
        await recordRefusal({ ...subject, reason: 'changed_meanwhile' });
        throw new AuthError('invalid_credentials');
      }
      recordEvent(changed);
      await sessions.endOthers(user.id, sessionId, client, 'password_changed');
    },

    async findUser(userId) {
      const now = clock.now();
      const cached = userCache.get(userId);
      if (cached !== undefined && now - cached.cachedAt < USER_CACHE_MS) return cached.user;
      const user = await store.findUserById(userId);
      if (user === undefined) throw new AuthError('invalid_token');
      if (userCache.size >= USER_CACHE_SIZE) userCache.clear();
      const publicUser = toPublic(user);
      userCache.set(userId, { user: publicUser, cachedAt: now });
      return publicUser;
    },

    forgetUser: (userId) => void userCache.delete(userId),
  };
}
