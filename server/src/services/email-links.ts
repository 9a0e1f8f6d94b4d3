import { createHash, randomBytes } from 'node:crypto';
import type { MailConfig } from '../config.ts';
import type { EmailTokenPurpose, NewEmailToken, NewMail } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { MailOutbox } from './mail-outbox.ts';
import { describeDuration, renderMail } from './mail-templates.ts';

/**
 * 256 random bits in base64url: the contract asks for at least 128 (OWASP Forgot Password Cheat
 * Sheet, "URL tokens"). Only the SHA-256 is stored; a fast hash suffices for a random secret.
 */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The web app's page for each purpose. The token travels in the fragment (`#token=`), which
 * browsers never send to a server nor put in a Referer, so it reaches no log; opening the link
 * (a scanner's GET or HEAD) only loads the page, and only the page's POST spends the token.
 */
const PAGES: Record<EmailTokenPurpose, string> = {
  verify: '/verify-email',
  reset: '/reset-password',
  change: '/confirm-email',
};

export interface IssuedLink {
  token: NewEmailToken;
  /** The mail carrying the link. */
  mail: NewMail;
}

export interface EmailLinks {
  /** A new token of `purpose` for the account, and the mail with its link to `email`. */
  issue(purpose: EmailTokenPurpose, userId: string, email: string): IssuedLink;
  /** The stored form of a token a client sent; undefined when it cannot be one of ours. */
  hashOf(token: string): string | undefined;
}

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

export function createEmailLinks(options: {
  mail: MailConfig;
  clock: Clock;
  outbox: MailOutbox;
}): EmailLinks {
  const { mail, clock, outbox } = options;
  const ttlSeconds: Record<EmailTokenPurpose, number> = {
    verify: mail.verifyTtlSeconds,
    reset: mail.resetTtlSeconds,
    change: mail.changeTtlSeconds,
  };
  return {
    issue(purpose, userId, email) {
      const raw = randomBytes(TOKEN_BYTES).toString('base64url');
      const now = clock.now();
      const link = `${mail.appUrl}${PAGES[purpose]}#token=${raw}`;
      const validFor = describeDuration(ttlSeconds[purpose]);
      const rendered =
        purpose === 'change'
          ? renderMail({ kind: 'change-confirm', link, validFor, newEmail: email })
          : renderMail({ kind: purpose, link, validFor });
      return {
        token: {
          tokenHash: hash(raw),
          purpose,
          userId,
          email,
          createdAt: now,
          expiresAt: now + ttlSeconds[purpose] * 1000,
        },
        mail: outbox.compose(email, rendered),
      };
    },
    hashOf: (token) => (TOKEN_PATTERN.test(token) ? hash(token) : undefined),
  };
}
