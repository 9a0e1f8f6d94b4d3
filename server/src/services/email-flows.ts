import type { MailConfig } from '../config.ts';
import { AuthError, CAUSE_MESSAGES } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { checkPassword } from './check-password.ts';
import type { Clock } from './clock.ts';
import {
  describeEmailProblem,
  describePasswordProblem,
  normalizeEmail,
  normalizePassword,
} from './credential-rules.ts';
import type { EmailLinks } from './email-links.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { MailOutbox } from './mail-outbox.ts';
import { renderMail } from './mail-templates.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { RevocationList } from './revocation-list.ts';
import type { Audit } from '../store/store.ts';
import { auditOf, type RecordSecurityEvent, type SecurityEvent } from './security-events.ts';
import type { ClientInfo } from './sessions.ts';
import type { FactorProof, SecondFactors } from './second-factors.ts';
import type { Throttle } from './throttle.ts';
import { createHash } from 'node:crypto';

export interface EmailFlowsOptions {
  secondFactors: SecondFactors;
  store: Store;
  clock: Clock;
  hasher: PasswordHasher;
  throttle: Throttle;
  loginThrottle: LoginThrottle;
  revocations: RevocationList;
  links: EmailLinks;
  outbox: MailOutbox;
  mail: MailConfig;
  recordEvent: RecordSecurityEvent;
  /** Mail was queued: deliver soon. */
  onMailQueued: () => void;
  /** An account's email or its verified state changed (cached copies must go). */
  onUserChanged: (userId: string) => void;
  /** Work done after the answer (forgot-password) failed. */
  onBackgroundError: (error: unknown) => void;
}

/** `sent`, or `already_verified` when there was nothing to verify. */
export type VerificationRequest = 'sent' | 'already_verified';

export interface EmailFlows {
  requestVerification(userId: string, client: ClientInfo): Promise<VerificationRequest>;
  verify(token: string, client: ClientInfo): Promise<void>;
  /** Answers the same way, after the same work, whether or not the account exists. */
  forgotPassword(email: string, client: ClientInfo): Promise<void>;
  /**
   * With a second factor enrolled, `proof` (a code or a recovery code) is required before
   * anything is spent: a reset never lowers the account's assurance (issue 13).
   */
  resetPassword(
    token: string,
    newPassword: string,
    client: ClientInfo,
    proof?: FactorProof,
  ): Promise<void>;
  requestEmailChange(
    userId: string,
    sessionId: string,
    newEmail: string,
    currentPassword: string,
    client: ClientInfo,
    proof?: FactorProof,
  ): Promise<void>;
  confirmEmailChange(token: string, client: ClientInfo): Promise<void>;
  /** Resolves once work started after an answer (a forgot-password lookup) has finished. */
  settle(): Promise<void>;
}

/** An event whose account only the store knows (it comes with the spent token). */
const tokenAudit = (at: number, type: string, client: ClientInfo): Audit => ({
  at,
  events: [{ type, ip: client.ip ?? null, userAgent: client.userAgent?.slice(0, 512) ?? null }],
});

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * Email verification, password reset and email change (v2 contract). Every link token is
 * recorded with its mail in one transaction and spent by one conditional UPDATE together with
 * the change it makes (store.ts), so a token works once even when presented twice at the same
 * instant, and a crash leaves either both or neither.
 */
export function createEmailFlows(options: EmailFlowsOptions): EmailFlows {
  const { store, clock, hasher, throttle, loginThrottle, links, mail, recordEvent } = options;
  const resendWindowMs = mail.resendIntervalSeconds * 1000;
  const background = new Set<Promise<void>>();

  /** One mail of a kind per interval per key (an account, or an email for resets). */
  const takeMailSlot = (key: string) =>
    throttle.take(key, 1, resendWindowMs, CAUSE_MESSAGES.mailThrottled);

  const tokenHashOf = (token: string) => {
    const tokenHash = links.hashOf(token);
    if (tokenHash === undefined) throw new AuthError('invalid_email_token');
    return tokenHash;
  };

  const sendReset = async (email: string, client: ClientInfo) => {
    const user = await store.findUserByEmail(email);
    if (user === undefined) return;
    const link = links.issue('reset', user.id, user.email);
    const event: SecurityEvent = {
      type: 'password_reset_requested',
      userId: user.id,
      ip: client.ip,
      userAgent: client.userAgent,
    };
    await store.issueEmailToken(link.token, [link.mail], auditOf(clock.now(), event));
    options.onMailQueued();
    recordEvent(event);
  };

  return {
    async requestVerification(userId, client) {
      const user = await store.findUserById(userId);
      if (user === undefined) throw new AuthError('invalid_token');
      if (user.emailVerifiedAt !== null) return 'already_verified';
      await takeMailSlot(`mail-verify:${user.id}`);
      const link = links.issue('verify', user.id, user.email);
      const event: SecurityEvent = {
        type: 'email_verification_requested',
        userId: user.id,
        ip: client.ip,
        userAgent: client.userAgent,
      };
      await store.issueEmailToken(link.token, [link.mail], auditOf(clock.now(), event));
      options.onMailQueued();
      recordEvent(event);
      return 'sent';
    },

    async verify(token, client) {
      const now = clock.now();
      const userId = await store.verifyEmail(
        tokenHashOf(token),
        now,
        tokenAudit(now, 'email_verified', client),
      );
      if (userId === undefined) throw new AuthError('invalid_email_token');
      options.onUserChanged(userId);
      recordEvent({ type: 'email_verified', userId, ip: client.ip });
    },

    async forgotPassword(rawEmail, client) {
      const email = normalizeEmail(rawEmail);
      const problem = describeEmailProblem(email);
      if (problem !== undefined) {
        throw new AuthError('validation_failed', { fields: { email: problem }, message: problem });
      }
      // Counted per email before anything is looked up, known or not (OWASP Forgot Password
      // Cheat Sheet: "consistent … response"), under a digest: no address in the table.
      await takeMailSlot(`mail-reset:${digest(email)}`);
      // The lookup and the mail happen after the answer, so an existing account takes no more
      // time to answer than an unknown one: the answer is the same in body, status and timing.
      const work = sendReset(email, client)
        .catch(options.onBackgroundError)
        .finally(() => background.delete(work));
      background.add(work);
    },

    async resetPassword(token, newPassword, client, proof = {}) {
      const tokenHash = tokenHashOf(token);
      // The rules first: a refused password must not spend the token (v2 contract).
      const problem = describePasswordProblem(newPassword);
      if (problem !== undefined) {
        throw new AuthError('validation_failed', {
          fields: { new_password: problem },
          message: problem,
        });
      }
      // A token that cannot work is refused before the slow hash.
      const pending = await store.findEmailToken(tokenHash, 'reset', clock.now());
      if (pending === undefined) throw new AuthError('invalid_email_token');
      if (await options.secondFactors.isEnrolled(pending.userId)) {
        await options.secondFactors.verify(pending.userId, proof, client);
      }
      const nextHash = await hasher.hash(normalizePassword(newPassword));
      const now = clock.now();
      const reset = await store.resetPassword(
        tokenHash,
        nextHash,
        now,
        tokenAudit(now, 'password_reset', client),
      );
      if (reset === undefined) throw new AuthError('invalid_email_token');
      await options.revocations.publish(reset.revoked, now);
      await loginThrottle.recordSuccess(reset.email);
      options.onUserChanged(reset.userId);
      recordEvent({ type: 'password_reset', userId: reset.userId, ip: client.ip });
      for (const sessionId of reset.revoked.sessionIds) {
        recordEvent({
          type: 'session_ended',
          userId: reset.userId,
          sessionId,
          ip: client.ip,
          reason: 'password_reset',
        });
      }
      await store.enqueueMails([
        options.outbox.compose(reset.email, renderMail({ kind: 'password-reset-notice' })),
      ]);
      options.onMailQueued();
    },

    async requestEmailChange(userId, sessionId, rawNewEmail, currentPassword, client, proof = {}) {
      const user = await store.findUserById(userId);
      if (user === undefined) throw new AuthError('invalid_token');
      if (await options.secondFactors.isEnrolled(userId)) {
        await options.secondFactors.verify(userId, proof, client);
      }
      const newEmail = normalizeEmail(rawNewEmail);
      const problem =
        describeEmailProblem(newEmail) ??
        (newEmail === user.email ? 'That is already your email address.' : undefined);
      if (problem !== undefined) {
        throw new AuthError('validation_failed', {
          fields: { new_email: problem },
          message: problem,
        });
      }
      // The password is checked like a login's: same account limit, reserved before the hash.
      const subject = { userId, sessionId, ip: client.ip, userAgent: client.userAgent };
      const refuse = async (reason: string) => {
        const event: SecurityEvent = { type: 'email_change_failed', ...subject, reason };
        await store.recordAuditEvents(auditOf(clock.now(), event));
        recordEvent(event);
      };
      try {
        await loginThrottle.reserveAttempt(user.email);
      } catch (error) {
        if (error instanceof AuthError && error.code === 'rate_limited') await refuse('throttled');
        throw error;
      }
      if (!(await checkPassword(hasher, user, currentPassword))) {
        await refuse('bad_password');
        throw new AuthError('invalid_credentials');
      }
      await loginThrottle.recordSuccess(user.email);
      if ((await store.findUserByEmail(newEmail)) !== undefined) {
        throw new AuthError('email_taken');
      }
      await takeMailSlot(`mail-change:${user.id}`);
      const link = links.issue('change', user.id, newEmail);
      const notice = options.outbox.compose(
        user.email,
        renderMail({ kind: 'change-notice', newEmail }),
      );
      const requested: SecurityEvent = { type: 'email_change_requested', ...subject };
      await store.issueEmailToken(link.token, [link.mail, notice], auditOf(clock.now(), requested));
      options.onMailQueued();
      recordEvent(requested);
    },

    async confirmEmailChange(token, client) {
      const now = clock.now();
      const changed = await store.confirmEmailChange(
        tokenHashOf(token),
        now,
        tokenAudit(now, 'email_changed', client),
      );
      if (changed === 'taken') throw new AuthError('email_taken');
      if (changed === undefined) throw new AuthError('invalid_email_token');
      options.onUserChanged(changed.userId);
      recordEvent({ type: 'email_changed', userId: changed.userId, ip: client.ip });
    },

    async settle() {
      await Promise.all([...background]);
    },
  };
}
