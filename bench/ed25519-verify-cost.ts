import { type KeyObject, verify } from 'node:crypto';

/**
 * CPU microseconds of one Ed25519 signature verification with node:crypto in this process
 * (`crypto.verify(null, data, key, signature)` with a KeyObject made once): the floor of what a
 * server verifying a token it has not seen must add to a request. The tokens are split and
 * decoded first, so only the verification itself is timed; every one must verify.
 */
export function ed25519VerifyMicros(tokens: readonly string[], publicKey: KeyObject): number {
  const inputs = tokens.map((token) => {
    const dot = token.lastIndexOf('.');
    return {
      data: Buffer.from(token.slice(0, dot)),
      signature: Buffer.from(token.slice(dot + 1), 'base64url'),
    };
  });
  const before = process.cpuUsage();
  for (const { data, signature } of inputs) {
    if (!verify(null, data, publicKey, signature)) throw new Error('a minted token did not verify');
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / inputs.length;
}
