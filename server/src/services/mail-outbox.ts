import type { NewMail, QueuedMail } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { KeySealer } from './key-sealer.ts';
import type { RenderedMail } from './mail-templates.ts';

/**
 * Mails as outbox rows. A pending mail holds a one-time link, so its body is sealed with
 * KEY_ENCRYPTION_KEY when one is set (AES-256-GCM, bound to the row's id), like the signing keys;
 * the store blanks it once the mail is sent. The subject and recipient stay readable for an
 * operator.
 */
export interface MailOutbox {
  compose(recipient: string, mail: RenderedMail): NewMail;
  /** The text and HTML of a claimed mail. */
  open(mail: QueuedMail): { text: string; html: string };
}

const contextOf = (id: string) => `outbox:${id}`;

export function createMailOutbox(options: { sealer: KeySealer; clock: Clock }): MailOutbox {
  const { sealer, clock } = options;
  return {
    compose(recipient, mail) {
      const id = crypto.randomUUID();
      const body = JSON.stringify({ text: mail.text, html: mail.html });
      return {
        id,
        recipient,
        subject: mail.subject,
        body: sealer.seal(body, contextOf(id)),
        createdAt: clock.now(),
      };
    },
    open(mail) {
      const parsed = JSON.parse(sealer.open(mail.body, contextOf(mail.id))) as {
        text: string;
        html: string;
      };
      return { text: parsed.text, html: parsed.html };
    },
  };
}
