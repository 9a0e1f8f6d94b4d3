import type { Store } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { MailOutbox } from './mail-outbox.ts';
import type { MailTransport } from './mail-transport.ts';

/** A sender looks for due mail this often, and at once when this instance queued one. */
const POLL_MS = 1000;
/**
 * One instance at a time sends (a lease it renews every round); a mail claimed by a sender that
 * died is taken up again once its claim ends.
 */
const SENDER_LEASE = 'mail-sender';
const SENDER_LEASE_MS = 10_000;
const CLAIM_MS = 60_000;
/** Mails per round, so a long outbox does not hold the lease past its end. */
const BATCH = 20;
/**
 * Retries back off from 10 s, doubling, to at most an hour between attempts; after 20 attempts
 * (about 13 hours) the mail is given up on and logged. A mail is about a link that expires
 * (PASSWORD_RESET_TTL is an hour by default), so later delivery would be useless anyway.
 */
const RETRY_BASE_MS = 10_000;
const RETRY_MAX_MS = 3600_000;
const MAX_ATTEMPTS = 20;

export interface MailSender {
  /** Where mails go, in words. */
  readonly description: string;
  start(): void;
  /** Stops looking and waits for the round in flight. */
  stop(): Promise<void>;
  /** Looks now (after this instance queued mail); never waits for delivery. */
  kick(): void;
  /** One round: sends what is due if this instance holds the lease; how many went out. */
  runOnce(): Promise<number>;
}

export interface MailSenderOptions {
  store: Store;
  clock: Clock;
  transport: MailTransport;
  outbox: MailOutbox;
  from: string;
  /** This instance's id, as the lease holder. */
  holder: string;
  onSent: (info: { id: string; attempts: number; outcome: string }) => void;
  onFailure: (info: { id: string; attempts: number; error: unknown; gaveUp: boolean }) => void;
  onError: (error: unknown) => void;
}

export const retryDelayMs = (attempts: number): number =>
  Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS);

/**
 * The background sender of the outbox (v2 contract: "a request never waits for, or fails because
 * of, mail delivery"; retries survive a restart because the outbox is in the database).
 */
export function createMailSender(options: MailSenderOptions): MailSender {
  const { store, clock, transport, outbox } = options;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<number> | undefined;
  let again = false;
  let stopped = true;

  const sendOne = async (): Promise<boolean> => {
    const now = clock.now();
    const mail = await store.claimMail(now, CLAIM_MS);
    if (mail === undefined) return false;
    try {
      const { text, html } = outbox.open(mail);
      const outcome = await transport.deliver({
        id: mail.id,
        from: options.from,
        to: mail.recipient,
        subject: mail.subject,
        text,
        html,
      });
      await store.recordMailSent(mail.id, clock.now());
      options.onSent({ id: mail.id, attempts: mail.attempts, outcome });
    } catch (error) {
      const gaveUp = mail.attempts >= MAX_ATTEMPTS;
      const at = clock.now();
      await store.recordMailFailure(
        mail.id,
        at,
        gaveUp ? null : at + retryDelayMs(mail.attempts),
        error instanceof Error ? error.message : String(error),
      );
      options.onFailure({ id: mail.id, attempts: mail.attempts, error, gaveUp });
    }
    return true;
  };

  const runRound = async (): Promise<number> => {
    if (!(await store.acquireLease(SENDER_LEASE, options.holder, clock.now(), SENDER_LEASE_MS))) {
      return 0;
    }
    let sent = 0;
    while (sent < BATCH && (await sendOne())) sent++;
    return sent;
  };

  /** One round at a time; a kick during one runs another right after it. */
  const runOnce = (): Promise<number> => {
    if (round !== undefined) {
      again = true;
      return round;
    }
    round = runRound().finally(() => {
      round = undefined;
      if (again && !stopped) {
        again = false;
        void runOnce().catch(options.onError);
      }
    });
    return round;
  };

  return {
    description: transport.description,
    start() {
      stopped = false;
      timer = setInterval(() => void runOnce().catch(options.onError), POLL_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await round?.catch(() => undefined);
      // Hand the lease back (a lease that ends now), so another instance, or this one
      // restarted, sends at once instead of after the lease's end.
      await store.acquireLease(SENDER_LEASE, options.holder, clock.now(), 0).catch(() => undefined);
      transport.close();
    },
    kick() {
      if (!stopped) setImmediate(() => void runOnce().catch(options.onError));
    },
    runOnce,
  };
}
