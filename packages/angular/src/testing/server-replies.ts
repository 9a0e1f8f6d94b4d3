/**
 * Bodies the Latchkey server answers with (docs/api.md), for `TestRequest.flush` in unit tests.
 */
import type { ErrorCode, FailureBody, StatusBody, TokenBody, UserData } from '@latchkey/contract';

export const ALICE: UserData = {
  user_id: '7',
  email: 'alice@example.com',
  email_verified: true,
  admin: false,
  registered_on: '2026-01-02T03:04:05.000Z',
};

/** A JWT-shaped access token with the given claims; the signature is fake (the server checks). */
export function fakeAccessToken(claims: Record<string, unknown>): string {
  const part = (value: object) =>
    btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${part({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' })}.${part(claims)}.c2lnbmF0dXJl`;
}

export function tokenReply(token: string): TokenBody {
  return { status: 'success', auth_token: token, token_type: 'Bearer', expires_in: 900 };
}

export function statusReply(user: UserData = ALICE): StatusBody {
  return { status: 'success', data: user };
}

/** A failure body and the options `flush` needs to answer it with `status`. */
export function failure(
  status: number,
  code: ErrorCode,
  message = 'The request failed.',
  fields?: Record<string, string>,
): [FailureBody, { status: number; statusText: string }] {
  const body: FailureBody = { status: 'fail', code, message, ...(fields ? { fields } : {}) };
  return [body, { status, statusText: 'Error' }];
}
