import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** What a sealed value starts with: the scheme and its version, so a plain value is told apart. */
const SEALED_PREFIX = 'aes256gcm.v1.';
/** NIST SP 800-38D §8.2: a 96-bit random IV per encryption; the 128-bit tag is GCM's full tag. */
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface KeySealer {
  /** True when values are sealed (a key is configured). */
  readonly enabled: boolean;
  /** Seals `plaintext`, bound to `context` (the key's kid): it opens only for that context. */
  seal(plaintext: string, context: string): string;
  /** Opens a sealed value; a plain one comes back as it is. Throws on a wrong key or context. */
  open(stored: string, context: string): string;
  isSealed(stored: string): boolean;
}

/**
 * Private signing keys at rest (v2 contract, "Signing keys at rest"): AES-256-GCM with
 * KEY_ENCRYPTION_KEY, the kid as additional authenticated data, so a sealed key copied onto
 * another row does not open. node:crypto's cipher runs synchronously on the calling thread: a
 * few microseconds at start-up and at rotation, nothing per request.
 */
export function createKeySealer(key: Buffer | undefined): KeySealer {
  const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX);
  return {
    enabled: key !== undefined,
    isSealed,
    seal(plaintext, context) {
      if (key === undefined) return plaintext;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context));
      const sealed = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]);
      return SEALED_PREFIX + Buffer.concat([sealed, cipher.getAuthTag()]).toString('base64url');
    },
    open(stored, context) {
      if (!isSealed(stored)) return stored;
      if (key === undefined) {
        throw new Error(
          'The signing keys in the database are encrypted: set KEY_ENCRYPTION_KEY to the key they were encrypted with.',
        );
      }
      const bytes = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch (cause) {
        throw new Error(
          `Signing key ${context} does not open with this KEY_ENCRYPTION_KEY: it is not the key the signing keys were encrypted with.`,
          { cause },
        );
      }
    },
  };
}
