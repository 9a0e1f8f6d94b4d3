/** Sign-ups, sign-ins and status calls for setting up a scenario (not timed). */

export interface SignedIn {
  email: string;
  accessToken: string;
  /** The refresh token from the `latchkey_refresh` cookie. */
  refreshToken: string;
}

export interface AuthClient {
  register(email: string, password: string): Promise<SignedIn>;
  /** `forwardedFor`: sent as X-Forwarded-For, for a server behind TRUST_PROXY. */
  logIn(email: string, password: string, forwardedFor?: string): Promise<SignedIn>;
  /** The raw body of GET /auth/status. */
  status(accessToken: string): Promise<string>;
}

/** The refresh token in a Set-Cookie header list, if the answer set one. */
export function refreshTokenFrom(setCookie: readonly string[]): string | undefined {
  for (const cookie of setCookie) {
    const match = /^latchkey_refresh=([^;]+)/.exec(cookie);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

export function createAuthClient(baseUrl: string): AuthClient {
  const signIn = async (
    path: string,
    email: string,
    password: string,
    forwardedFor?: string,
  ): Promise<SignedIn> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
      },
      body: JSON.stringify({ email, password }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { auth_token?: string };
    const refreshToken = refreshTokenFrom(res.headers.getSetCookie());
    if (!res.ok || body.auth_token === undefined || refreshToken === undefined) {
      throw new Error(`POST ${path} for ${email} answered ${res.status}: ${JSON.stringify(body)}`);
    }
    return { email, accessToken: body.auth_token, refreshToken };
  };
  return {
    register: (email, password) => signIn('/auth/register', email, password),
    logIn: (email, password, forwardedFor) => signIn('/auth/login', email, password, forwardedFor),
    async status(accessToken) {
      const res = await fetch(`${baseUrl}/auth/status`, {
        headers: { authorization: `Bearer ${accessToken}` },
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET /auth/status answered ${res.status}: ${text}`);
      return text;
    },
  };
}
