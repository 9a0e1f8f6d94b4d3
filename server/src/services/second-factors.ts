import { createHash, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import { AuthError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { checkPassword } from './check-password.ts';
import type { Clock } from './clock.ts';
import type { KeySealer } from './key-sealer.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { auditOf, type RecordSecurityEvent, type SecurityEvent } from './security-events.ts';
import type { ClientInfo } from './sessions.ts';
import type { Throttle } from './throttle.ts';

/** RFC 6238 defaults every authenticator app supports: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
/** RFC 4226 §4 asks for at least 128 bits and recommends 160: the length of SHA-1's block key. */
const SECRET_BYTES = 20;
/** RFC 6238 §5.2: one step either side, for clock drift and typing time. */
const WINDOW_STEPS = 1;
/**
 * Ten recovery codes of 50 random bits each (10 base32 characters, shown as two groups of five):
 * past the 40 bits the issue asks for, and typeable. Stored as SHA-256: they are random, not
 * chosen, so a slow hash adds nothing (The Copenhagen Book, "Recovery codes").
 */
const RECOVERY_CODES = 10;
const RECOVERY_CODE_BYTES = 7; // 56 bits, cut to 50 in base32
const CHALLENGE_BYTES = 32;
/** The pending sign-in after the right password lives five minutes and works once. */
const CHALLENGE_TTL_MS = 5 * 60_000;
/** Second-factor guesses: 5 per 15 minutes per account, apart from the password's counter. */
const FACTOR_MAX_FAILURES = 5;
const FACTOR_WINDOW_MS = 15 * 60_000;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface FactorProof {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}

export interface TotpEnrolment {
  secret: string;
  otpauthUrl: string;
  qrSvg: string;
}

export interface SecondFactorStatus {
  totp: boolean;
  recoveryCodesLeft: number;
}

export interface SecondFactors {
  status(userId: string): Promise<SecondFactorStatus>;
  /** True when the account has a confirmed second factor. */
  isEnrolled(userId: string): Promise<boolean>;
  /** Starts TOTP enrolment (the password proves it is the user); nothing is active yet. */
  beginTotp(userId: string, currentPassword: string, client: ClientInfo): Promise<TotpEnrolment>;
  /** Confirms enrolment with a first valid code; answers the recovery codes, shown once. */
  confirmTotp(userId: string, code: string, client: ClientInfo): Promise<string[]>;
  /** Removes TOTP and the recovery codes; needs a code (or recovery code) and the password. */
  removeTotp(
    userId: string,
    proof: FactorProof,
    currentPassword: string,
    client: ClientInfo,
  ): Promise<void>;
  /** New recovery codes (the old ones stop working); needs a fresh second-factor check. */
  regenerateRecoveryCodes(
    userId: string,
    proof: FactorProof,
    client: ClientInfo,
  ): Promise<string[]>;
  /**
   * Checks a second factor of an enrolled account (step-up, reset): AuthError `mfa_required`
   * without a proof, `invalid_mfa_code` for a wrong one, `rate_limited` past the limit.
   */
  verify(userId: string, proof: FactorProof, client: ClientInfo): Promise<'otp' | 'recovery_code'>;
  /** The pending sign-in after the right password: a single-use token for `completeSignIn`. */
  startSignIn(userId: string): Promise<string>;
  /** Spends the pending sign-in with a second factor; the account it was for. */
  completeSignIn(
    token: string,
    proof: FactorProof,
    client: ClientInfo,
  ): Promise<{ userId: string; method: 'otp' | 'recovery_code' }>;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const normalizeRecoveryCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function newRecoveryCode(): string {
  const bytes = randomBytes(RECOVERY_CODE_BYTES);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 10) {
      out += BASE32.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  return `${out.slice(0, 5)}-${out.slice(5, 10)}`;
}

/**
 * TOTP (RFC 6238) and recovery codes, and the sign-in step between the password and the second
 * factor. Every check-then-act is a compare-and-set in the store: a TOTP step is accepted once
 * (two parallel uses of one code: one success), a recovery code is spent once, a pending sign-in
 * is spent once. Secrets are sealed with KEY_ENCRYPTION_KEY when it is set.
 */
export function createSecondFactors(options: {
  store: Store;
  clock: Clock;
  sealer: KeySealer;
  hasher: PasswordHasher;
  throttle: Throttle;
  loginThrottle: LoginThrottle;
  recordEvent: RecordSecurityEvent;
  issuer: string;
  /** Mails the account a notice of a change to its second factors (issue 13: each change). */
  notify: (userId: string, change: string) => Promise<void>;
}): SecondFactors {
  const { store, clock, sealer, throttle, recordEvent } = options;
  const contextOf = (userId: string) => `totp:${userId}`;
  const totpOf = (secret: string, label: string) =>
    new OTPAuth.TOTP({
      issuer: options.issuer,
      label,
      algorithm: 'SHA1',
      digits: 6,
      period: PERIOD_SECONDS,
      secret: OTPAuth.Secret.fromBase32(secret),
    });

  const event = (
    type: SecurityEvent['type'],
    userId: string,
    client: ClientInfo,
    reason?: string,
  ) => ({
    type,
    userId,
    ip: client.ip,
    userAgent: client.userAgent,
    ...(reason === undefined ? {} : { reason }),
  });

  const refuse = async (userId: string, client: ClientInfo, reason: string) => {
    const refused = event('mfa_failed', userId, client, reason);
    await store.recordAuditEvents(auditOf(clock.now(), refused));
    recordEvent(refused);
  };

  const newRecoveryCodes = () => Array.from({ length: RECOVERY_CODES }, newRecoveryCode);

  /** The step a valid code belongs to, or undefined. */
  const stepOf = async (userId: string, code: string, confirmed: boolean) => {
    const factor = await store.findTotp(userId);
    if (factor === undefined || (factor.confirmedAt !== null) !== confirmed) return undefined;
    if (!/^\d{6}$/.test(code)) return undefined;
    const user = await store.findUserById(userId);
    const secret = sealer.open(factor.secret, contextOf(userId));
    const now = clock.now();
    const delta = totpOf(secret, user?.email ?? userId).validate({
      token: code,
      timestamp: now,
      window: WINDOW_STEPS,
    });
    if (delta === null) return undefined;
    return Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
  };

  const verify: SecondFactors['verify'] = async (userId, proof, client) => {
    if (!(await store.findTotp(userId))?.confirmedAt) throw new AuthError('mfa_required');
    if (proof.code === undefined && proof.recoveryCode === undefined) {
      throw new AuthError('mfa_required');
    }
    // Reserve, then check (style rule 11): its own counter, apart from the password's.
    try {
      await throttle.take(`mfa:${userId}`, FACTOR_MAX_FAILURES, FACTOR_WINDOW_MS);
    } catch (error) {
      if (error instanceof AuthError && error.code === 'rate_limited') {
        await refuse(userId, client, 'throttled');
      }
      throw error;
    }
    const now = clock.now();
    if (proof.code !== undefined) {
      const step = await stepOf(userId, proof.code, true);
      // RFC 6238 §5.2: a code already accepted, or one of an earlier step, is refused.
      if (step !== undefined && (await store.acceptTotpStep(userId, step))) {
        await throttle.clear(`mfa:${userId}`);
        return 'otp';
      }
      await refuse(userId, client, step === undefined ? 'bad_code' : 'replayed_code');
      throw new AuthError('invalid_mfa_code');
    }
    const hash = sha256(normalizeRecoveryCode(proof.recoveryCode ?? ''));
    const used = event('recovery_code_used', userId, client);
    if (await store.spendRecoveryCode(userId, hash, now, auditOf(now, used))) {
      recordEvent(used);
      await throttle.clear(`mfa:${userId}`);
      return 'recovery_code';
    }
    await refuse(userId, client, 'bad_recovery_code');
    throw new AuthError('invalid_mfa_code');
  };

  return {
    async status(userId) {
      const factor = await store.findTotp(userId);
      return {
        totp: factor?.confirmedAt != null,
        recoveryCodesLeft: await store.countRecoveryCodes(userId),
      };
    },

    async isEnrolled(userId) {
      return (await store.findTotp(userId))?.confirmedAt != null;
    },

    async beginTotp(userId, currentPassword) {
      const user = await store.findUserById(userId);
      if (user === undefined) throw new AuthError('invalid_token');
      await options.loginThrottle.reserveAttempt(user.email);
      if (!(await checkPassword(options.hasher, user, currentPassword))) {
        throw new AuthError('invalid_credentials');
      }
      await options.loginThrottle.recordSuccess(user.email);
      const secret = new OTPAuth.Secret({ size: SECRET_BYTES }).base32;
      if (
        !(await store.saveTotpSecret(userId, sealer.seal(secret, contextOf(userId)), clock.now()))
      ) {
        const message = 'An authenticator is already set up; remove it before adding another.';
        throw new AuthError('validation_failed', { message, fields: { totp: message } });
      }
      const otpauthUrl = totpOf(secret, user.email).toString();
      const qrSvg = await QRCode.toString(otpauthUrl, {
        type: 'svg',
        errorCorrectionLevel: 'M',
        margin: 2,
      });
      return { secret, otpauthUrl, qrSvg };
    },

    async confirmTotp(userId, code, client) {
      const step = await stepOf(userId, code, false);
      const codes = newRecoveryCodes();
      const now = clock.now();
      const enrolled = event('mfa_enrolled', userId, client, 'totp');
      if (
        step === undefined ||
        !(await store.confirmTotp(
          userId,
          step,
          codes.map((c) => sha256(normalizeRecoveryCode(c))),
          now,
          auditOf(now, enrolled),
        ))
      ) {
        throw new AuthError('invalid_mfa_code');
      }
      recordEvent(enrolled);
      await options.notify(userId, 'two-step sign-in was turned on');
      return codes;
    },

    async removeTotp(userId, proof, currentPassword, client) {
      const user = await store.findUserById(userId);
      if (user === undefined) throw new AuthError('invalid_token');
      await verify(userId, proof, client);
      await options.loginThrottle.reserveAttempt(user.email);
      if (!(await checkPassword(options.hasher, user, currentPassword))) {
        throw new AuthError('invalid_credentials');
      }
      await options.loginThrottle.recordSuccess(user.email);
      const now = clock.now();
      const removed = event('mfa_removed', userId, client, 'totp');
      await store.removeTotp(userId, auditOf(now, removed));
      recordEvent(removed);
      await options.notify(userId, 'two-step sign-in was turned off');
    },

    async regenerateRecoveryCodes(userId, proof, client) {
      await verify(userId, proof, client);
      const codes = newRecoveryCodes();
      const now = clock.now();
      const renewed = event('recovery_codes_regenerated', userId, client);
      await store.replaceRecoveryCodes(
        userId,
        codes.map((c) => sha256(normalizeRecoveryCode(c))),
        now,
        auditOf(now, renewed),
      );
      recordEvent(renewed);
      await options.notify(userId, 'new recovery codes were made; the old ones no longer work');
      return codes;
    },

    verify,

    async startSignIn(userId) {
      const token = randomBytes(CHALLENGE_BYTES).toString('base64url');
      const now = clock.now();
      await store.createMfaChallenge({
        tokenHash: sha256(token),
        userId,
        createdAt: now,
        expiresAt: now + CHALLENGE_TTL_MS,
      });
      return token;
    },

    async completeSignIn(token, proof, client) {
      const tokenHash = CHALLENGE_PATTERN.test(token) ? sha256(token) : undefined;
      const userId =
        tokenHash === undefined ? undefined : await store.findMfaChallenge(tokenHash, clock.now());
      if (tokenHash === undefined || userId === undefined) throw new AuthError('invalid_mfa_token');
      const method = await verify(userId, proof, client);
      // Spent once: of parallel completions with good codes, one signs in.
      if (!(await store.spendMfaChallenge(tokenHash, clock.now())))
        throw new AuthError('invalid_mfa_token');
      return { userId, method };
    },
  };
}
