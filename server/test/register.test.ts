import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createTestApp,
  json,
  refreshSetCookieHeader,
  type TestApp,
  uniqueEmail,
} from './support/test-app.ts';

describe('POST /auth/register', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('register answers 201 with a bearer token and a refresh cookie', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: uniqueEmail(), password: 'correct horse battery staple' },
    });
    assert.equal(res.statusCode, 201);
    const body = json(res);
    assert.equal(body.status, 'success');
    assert.equal(body.message, 'Successfully registered.');
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(body['expires_in'], 900);
    assert.match(String(body.auth_token), /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const cookie = refreshSetCookieHeader(res);
    assert.ok(cookie);
    assert.match(cookie, /; Max-Age=1209600; Path=\/auth; HttpOnly; Secure; SameSite=Strict$/);
  });
});
