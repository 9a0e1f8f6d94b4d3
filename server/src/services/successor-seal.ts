import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals a refresh token's successor with a key derived from the token itself (HKDF-SHA256, then
 * AES-256-GCM), so the database can hand the same successor to every concurrent refresh with
 * that token without holding a usable token: whoever reads the database but lacks the old token
 * (only its SHA-256 is stored) cannot open it. The old token has 256 random bits, so it is a
 * proper key; the work is a few microseconds on the event loop, no threadpool job.
 */
const INFO = 'latchkey refresh successor v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const keyOf = (token: string) =>
  Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), Buffer.alloc(0), INFO, 32));

export function sealSuccessor(token: string, successor: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(token), iv);
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The successor, or undefined when `sealed` was not sealed for `token` (or was altered). */
export function openSuccessor(token: string, sealed: string): string | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(token), bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const opened = Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return opened.toString('utf8');
  } catch {
    return undefined;
  }
}
