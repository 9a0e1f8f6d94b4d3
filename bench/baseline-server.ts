/**
 * The baseline: a bare Fastify route, in its own process like the server, answering GET
 * /auth/status with a JSON body of exactly BODY_BYTES bytes shaped like the real one. No plugins,
 * no hooks, no schema: what any Fastify app costs before it does anything. GET
 * /verify/auth/status also verifies one Ed25519 signature per request.
 *
 * Environment: PORT, BODY_BYTES.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import Fastify from 'fastify';

const port = Number(process.env['PORT']);
const bodyBytes = Number(process.env['BODY_BYTES']);

const shaped = (email: string) => ({
  status: 'success',
  data: {
    user_id: '00000000-0000-4000-8000-000000000000',
    email,
    admin: false,
    email_verified: false,
    registered_on: '2026-01-01T00:00:00.000Z',
  },
});
const padding = bodyBytes - JSON.stringify(shaped('@example.com')).length;
if (!Number.isInteger(port) || !Number.isInteger(bodyBytes) || padding < 1) {
  process.stderr.write(`bad PORT or BODY_BYTES (${process.env['PORT']}, ${bodyBytes})\n`);
  process.exit(1);
}
const body = shaped(`${'b'.repeat(padding)}@example.com`);

const app = Fastify({ logger: false });
app.get('/auth/status', async () => body);

// The same route plus one Ed25519 verification with node:crypto of a token-sized message: what
// a server that verifies every token it is sent could cost at the least, measured over HTTP
// like the server, so the kernel's share of a slower answer is in both (bench/findings.md).
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signedInput = Buffer.from('e'.repeat(330));
const signature = sign(null, signedInput, privateKey);
app.get('/verify/auth/status', async () => {
  if (!verify(null, signedInput, publicKey, signature)) throw new Error('did not verify');
  return body;
});
app.get('/health', async () => ({ status: 'ok' }));
process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
await app.listen({ port, host: '127.0.0.1' });
