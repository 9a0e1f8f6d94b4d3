import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTestApp, type TestApp } from './support/test-app.ts';

/**
 * Slow clients are cut off (v2 contract). These tests open a real port: the timeouts belong to
 * Node's HTTP server, which inject() does not go through. Every wait is bounded; the bounds only
 * stop a hung test and are far above the configured timeouts.
 */
const REQUEST_TIMEOUT_MS = 600;
const KEEP_ALIVE_TIMEOUT_MS = 400;
const GIVE_UP_MS = 10_000;

/** Everything the server sends until it closes the connection (or GIVE_UP_MS passes). */
function readUntilClosed(socket: Socket): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, GIVE_UP_MS);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', () => undefined);
  });
}

describe('slow clients', () => {
  let t: TestApp;
  let port: number;
  before(async () => {
    t = await createTestApp({
      env: {
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    port = address.port;
  });
  after(() => t.close());

  test('a body trickling in slower than REQUEST_TIMEOUT_MS is answered 408 and closed', async () => {
    const socket = connect(port, '127.0.0.1');
    const answer = readUntilClosed(socket);
    socket.write(
      'POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\n\r\n{',
    );
    // One more byte every 200 ms: each arrives within any per-chunk idle timeout.
    const trickle = setInterval(() => socket.write(' '), 200);
    const { text, closed } = await answer;
    clearInterval(trickle);
    assert.ok(closed, 'the server closed the connection');
    assert.match(text, /^HTTP\/1\.1 408 /);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { code: string };
    assert.equal(body.code, 'request_timeout');
  });

  test('headers that never finish are cut off too', async () => {
    const socket = connect(port, '127.0.0.1');
    const answer = readUntilClosed(socket);
    socket.write('GET /auth/status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 200);
    const { closed } = await answer;
    clearInterval(trickle);
    assert.ok(closed, 'the server closed the connection');
  });

  test('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const socket = connect(port, '127.0.0.1');
    const answer = readUntilClosed(socket);
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    const { text, closed } = await answer;
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text.toLowerCase(), /keep-alive: timeout=\d+/);
    assert.ok(closed, 'the idle connection was closed by the server');
  });

  test('a request that arrives in time is answered normally', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 200);
  });
});
