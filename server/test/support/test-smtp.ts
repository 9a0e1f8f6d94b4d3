/**
 * A real SMTP server on loopback for the tests (smtp-server), which parses every mail it accepts
 * (mailparser). It can refuse mail for a while (a 451, as a server that is down for maintenance
 * answers) or stop listening, to test retries.
 */
import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  /** The whole message as received. */
  raw: string;
  /** The token of the first Latchkey link in the text part, if any. */
  token: string | undefined;
  /** The first link (of the text part), if any. */
  link: string | undefined;
}

export interface TestSmtp {
  url: string;
  port: number;
  readonly mails: ReceivedMail[];
  /** While true, every mail is refused with a temporary error (451). */
  refusing: boolean;
  /** Resolves with the first mail (already received or still to come) that `match` accepts. */
  waitFor(match: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

const LINK = /(https?:\/\/\S+#token=([A-Za-z0-9_-]+))/;

export async function startTestSmtp(port = 0): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const listeners = new Set<() => void>();
  const state = { refusing: false };
  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: nodemailer upgrades with STARTTLS whenever it is offered, and this
    // server has no certificate a client would trust.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (state.refusing) {
          const error = Object.assign(new Error('Service not available, try again later'), {
            responseCode: 451,
          });
          callback(error);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            const text = parsed.text ?? '';
            const match = LINK.exec(text);
            const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
            mails.push({
              to: to?.value[0]?.address ?? '',
              from: parsed.from?.text ?? '',
              subject: parsed.subject ?? '',
              text,
              html: typeof parsed.html === 'string' ? parsed.html : '',
              raw,
              token: match?.[2],
              link: match?.[1],
            });
            for (const listener of listeners) listener();
            callback();
          })
          .catch((error: unknown) => callback(error as Error));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${address.port}`,
    port: address.port,
    mails,
    get refusing() {
      return state.refusing;
    },
    set refusing(value: boolean) {
      state.refusing = value;
    },
    waitFor(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = mails.find(match);
          if (found === undefined) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching mail within ${timeoutMs} ms (got ${mails.length})`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
