import type autocannon from 'autocannon';

/** GET /auth/status with each token in turn (each connection cycles through all of them). */
export function statusRequests(accessTokens: readonly string[]): autocannon.Request[] {
  return accessTokens.map((token) => ({
    method: 'GET',
    path: '/auth/status',
    headers: { authorization: `Bearer ${token}` },
  }));
}

/** POST /auth/login with each account's correct password in turn. */
export function loginRequests(emails: readonly string[], password: string): autocannon.Request[] {
  return emails.map((email) => ({
    method: 'POST',
    path: '/auth/login',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  }));
}
