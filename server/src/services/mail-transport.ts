import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

/** One mail as it goes out. */
export interface OutgoingMail {
  /** Also the Message-ID's local part and the .eml file's name: one id per outbox row. */
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  /** Where mails go, in words, for the start-up log line. */
  readonly description: string;
  /** Hands the mail over; resolves with what to log (a queue id or a file name, never a link). */
  deliver(mail: OutgoingMail): Promise<string>;
  close(): void;
}

/**
 * Bounds on one SMTP conversation, so a server that accepts the connection and then says nothing
 * cannot hold the sender (nodemailer's defaults wait up to 10 minutes for a socket).
 */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

const messageOf = (mail: OutgoingMail) => ({
  from: mail.from,
  to: mail.to,
  subject: mail.subject,
  text: mail.text,
  html: mail.html,
  messageId: `<${mail.id}@${domainOf(mail.from)}>`,
});

const domainOf = (address: string) => /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'latchkey.invalid';

/**
 * SMTP through nodemailer (this is the only file that imports it): `smtp://` upgrades with
 * STARTTLS when the server offers it, `smtps://` is TLS from the first byte.
 */
export function createSmtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport({ url, ...SMTP_TIMEOUTS });
  const { hostname, port, protocol } = new URL(url);
  return {
    // The URL's user and password stay out of the description.
    description: `SMTP at ${protocol}//${hostname}:${port || (protocol === 'smtps:' ? 465 : 587)}`,
    async deliver(mail) {
      const info = await transporter.sendMail(messageOf(mail));
      return `sent to SMTP as ${info.messageId}`;
    },
    close: () => transporter.close(),
  };
}

/**
 * Development without SMTP_URL: each mail is an .eml file in `dir` (0700, files 0600: a mail holds
 * a one-time link), which any mail client opens.
 */
export function createFileTransport(dir: string): MailTransport {
  const composer = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'unix',
  });
  return {
    description: `.eml files in ${dir}`,
    async deliver(mail) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      const info = await composer.sendMail(messageOf(mail));
      const file = join(dir, `${new Date().toISOString().replaceAll(':', '-')}-${mail.id}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      return `written to ${file}`;
    },
    close: () => composer.close(),
  };
}
