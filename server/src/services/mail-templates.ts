/**
 * The mails Latchkey sends, as plain text and HTML. Plain and small on purpose: no remote
 * images, no tracking pixels or redirect links (v2 contract: "no tracking"), a clear subject
 * naming the product, and the link written out in full so a reader can see where it goes. The
 * HTML is inline-styled (mail clients drop <style> blocks) and escapes everything it shows.
 */
export const PRODUCT_NAME = 'Latchkey';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export type MailKind =
  | { kind: 'verify'; link: string; validFor: string }
  | { kind: 'reset'; link: string; validFor: string }
  | { kind: 'change-confirm'; link: string; validFor: string; newEmail: string }
  | { kind: 'change-notice'; newEmail: string }
  | { kind: 'password-reset-notice' }
  | { kind: 'security-change-notice'; change: string };

const escapeHtml = (value: string) =>
  value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

interface Parts {
  subject: string;
  heading: string;
  lines: string[];
  action?: { label: string; link: string };
  footer: string;
}

const IGNORE = 'If you did not ask for this, you can ignore this mail: nothing changes.';
const NOT_YOU =
  'If this was not you, reset your password at once and sign out your other sessions.';

function parts(mail: MailKind): Parts {
  switch (mail.kind) {
    case 'verify':
      return {
        subject: `${PRODUCT_NAME}: verify your email address`,
        heading: 'Verify your email address',
        lines: [
          `Follow the link below to confirm that this address belongs to your ${PRODUCT_NAME} account.`,
          `The link works once, for ${mail.validFor}.`,
        ],
        action: { label: 'Verify email', link: mail.link },
        footer: IGNORE,
      };
    case 'reset':
      return {
        subject: `${PRODUCT_NAME}: reset your password`,
        heading: 'Reset your password',
        lines: [
          `Someone (we hope you) asked to reset the password of your ${PRODUCT_NAME} account.`,
          `The link works once, for ${mail.validFor}. Resetting signs out every session.`,
        ],
        action: { label: 'Reset password', link: mail.link },
        footer: IGNORE,
      };
    case 'change-confirm':
      return {
        subject: `${PRODUCT_NAME}: confirm your new email address`,
        heading: 'Confirm your new email address',
        lines: [
          `Follow the link below to make ${mail.newEmail} the email of your ${PRODUCT_NAME} account.`,
          `The link works once, for ${mail.validFor}. Until then nothing changes.`,
        ],
        action: { label: 'Confirm email', link: mail.link },
        footer: IGNORE,
      };
    case 'change-notice':
      return {
        subject: `${PRODUCT_NAME}: a change of your email address was requested`,
        heading: 'A change of your email address was requested',
        lines: [
          `Someone signed in to your ${PRODUCT_NAME} account asked to change its email to ${mail.newEmail}.`,
          'The change happens only once the new address confirms it.',
        ],
        footer: NOT_YOU,
      };
    case 'password-reset-notice':
      return {
        subject: `${PRODUCT_NAME}: your password was reset`,
        heading: 'Your password was reset',
        lines: [
          `The password of your ${PRODUCT_NAME} account was just reset with a link sent to this address.`,
          'Every session was signed out.',
        ],
        footer:
          'If this was not you, ask for a new reset link at once and choose another password.',
      };
    case 'security-change-notice':
      return {
        subject: `${PRODUCT_NAME}: ${mail.change}`,
        heading: mail.change.charAt(0).toUpperCase() + mail.change.slice(1),
        lines: [
          `This is a notice about your ${PRODUCT_NAME} account: ${mail.change}.`,
          'You can see it under Security activity on your account page.',
        ],
        footer: NOT_YOU,
      };
  }
}

/** Renders one mail. */
export function renderMail(mail: MailKind): RenderedMail {
  const p = parts(mail);
  const text = [
    p.heading,
    '',
    ...p.lines,
    ...(p.action === undefined ? [] : ['', `${p.action.label}: ${p.action.link}`]),
    '',
    p.footer,
    '',
    `— ${PRODUCT_NAME}`,
    '',
  ].join('\n');
  const paragraph = (line: string) =>
    `<p style="margin:0 0 12px;font-size:16px;line-height:1.5;color:#1f2328">${escapeHtml(line)}</p>`;
  const action =
    p.action === undefined
      ? ''
      : `<p style="margin:24px 0"><a href="${escapeHtml(p.action.link)}" style="display:inline-block;padding:12px 20px;background:#0b5cad;color:#ffffff;text-decoration:none;border-radius:6px;font-size:16px;font-weight:600">${escapeHtml(p.action.label)}</a></p>` +
        `<p style="margin:0 0 12px;font-size:13px;line-height:1.5;color:#57606a">Or copy this link into your browser:<br><span style="word-break:break-all">${escapeHtml(p.action.link)}</span></p>`;
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width"><title>${escapeHtml(p.subject)}</title></head>` +
    `<body style="margin:0;padding:24px;background:#f6f8fa;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif">` +
    `<div style="max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;border-radius:8px;padding:32px">` +
    `<p style="margin:0 0 24px;font-size:14px;font-weight:700;letter-spacing:.04em;color:#0b5cad">${PRODUCT_NAME}</p>` +
    `<h1 style="margin:0 0 16px;font-size:22px;color:#1f2328">${escapeHtml(p.heading)}</h1>` +
    p.lines.map(paragraph).join('') +
    action +
    `<hr style="border:none;border-top:1px solid #d0d7de;margin:24px 0">` +
    `<p style="margin:0;font-size:13px;line-height:1.5;color:#57606a">${escapeHtml(p.footer)}</p>` +
    `</div></body></html>`;
  return { subject: p.subject, text, html };
}

/** "1 hour", "24 hours", "15 minutes": how long a link works, for the mail's words. */
export function describeDuration(seconds: number): string {
  if (seconds % 3600 === 0) {
    const hours = seconds / 3600;
    return hours === 1 ? '1 hour' : `${hours} hours`;
  }
  const minutes = Math.max(1, Math.round(seconds / 60));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
