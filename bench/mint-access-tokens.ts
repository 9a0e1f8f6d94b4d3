import {
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface MintedTokens {
  tokens: string[];
  /** The public key of the signing key, for the bench's own verification cost probe. */
  publicKey: KeyObject;
}

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Access tokens the server has never seen: `count` copies of a real token of the server's (same
 * user, session, issuer, audience and lifetime), each with a fresh `jti`, signed with the
 * server's own active key read from its SQLite file (plain: the bench sets no
 * KEY_ENCRYPTION_KEY). Minting 20,000 through logins would take minutes of argon2id; signing them
 * here takes about 30 µs each. Each is a valid token the server must verify in full, once.
 */
export function mintAccessTokens(dataDir: string, template: string, count: number): MintedTokens {
  const database = new DatabaseSync(join(dataDir, 'latchkey.sqlite'), { readOnly: true });
  let privateJwk: string;
  try {
    const row = database
      .prepare(
        'SELECT private_jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC',
      )
      .get() as { private_jwk: string } | undefined;
    if (row === undefined) throw new Error('the server has no active signing key');
    privateJwk = row.private_jwk;
  } finally {
    database.close();
  }
  const privateKey = createPrivateKey({ key: JSON.parse(privateJwk) as JsonWebKey, format: 'jwk' });
  const [headerPart = '', payloadPart = ''] = template.split('.');
  const header = headerPart;
  const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as object;
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const input = `${header}.${segment({ ...claims, jti: randomUUID() })}`;
    tokens.push(`${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`);
  }
  return { tokens, publicKey: createPublicKey(privateKey) };
}
