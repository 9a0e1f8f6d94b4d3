import { type Credentials, MESSAGES, type PasswordChange } from '@latchkey/contract';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../errors.ts';
import type { Accounts } from '../services/accounts.ts';
import type { AccessClaims } from '../services/access-tokens.ts';
import type { IssuedSession, Sessions } from '../services/sessions.ts';
import { bearerToken } from './bearer-token.ts';
import type { RefreshCookie } from './refresh-cookie.ts';
import { markApiRoutes } from './security-headers.ts';
import {
  listSessionsSchema,
  endOtherSessionsSchema,
  endSessionSchema,
  loginSchema,
  logoutSchema,
  passwordSchema,
  refreshSchema,
  registerSchema,
  statusSchema,
} from './schemas.ts';

export interface AuthRoutesDeps {
  accounts: Accounts;
  sessions: Sessions;
  refreshCookie: RefreshCookie;
  authenticate: (request: FastifyRequest) => Promise<void>;
  assertCookieRequestAllowed: (request: FastifyRequest) => void;
}

const rateLimited = { rateLimit: {} };
const iso = (ms: number) => new Date(ms).toISOString();

/** The `/auth` API. Registered under the `/auth` prefix; every answer is `no-store`. */
export function authRoutes(deps: AuthRoutesDeps) {
  const { accounts, sessions, refreshCookie, authenticate, assertCookieRequestAllowed } = deps;

  const clientOf = (request: FastifyRequest) => ({
    userAgent: request.headers['user-agent'],
    ip: request.ip,
  });
  const claimsOf = (request: FastifyRequest): AccessClaims => {
    if (request.auth === null) throw new AuthError('missing_token');
    return request.auth;
  };
  const sendSession = (
    reply: FastifyReply,
    status: number,
    issued: IssuedSession,
    message?: string,
  ) => {
    refreshCookie.set(reply, issued.refreshToken, issued.refreshMaxAgeSeconds);
    return reply.code(status).send({
      status: 'success',
      ...(message === undefined ? {} : { message }),
      auth_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: issued.expiresInSeconds,
    });
  };

  return async function plugin(app: FastifyInstance): Promise<void> {
    app.decorateRequest('auth', null);
    markApiRoutes(app);
    // RFC 6749 §5.1: responses carrying tokens must not be cached; nothing under /auth should be.
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    app.post<{ Body: Credentials }>(
      '/register',
      { schema: registerSchema, config: rateLimited },
      async (request, reply) => {
        const issued = await accounts.register(
          request.body.email,
          request.body.password,
          clientOf(request),
        );
        return sendSession(reply, 201, issued, MESSAGES.registered);
      },
    );

    app.post<{ Body: Credentials }>(
      '/login',
      { schema: loginSchema, config: rateLimited },
      async (request, reply) => {
        const issued = await accounts.logIn(
          request.body.email,
          request.body.password,
          clientOf(request),
        );
        return sendSession(reply, 200, issued, MESSAGES.loggedIn);
      },
    );

    const status = async (request: FastifyRequest) => {
      const user = await accounts.findUser(claimsOf(request).sub);
      return {
        status: 'success',
        data: {
          user_id: user.id,
          email: user.email,
          admin: user.admin,
          registered_on: user.registeredOn,
        },
      };
    };
    app.get('/status', { schema: statusSchema, preHandler: authenticate }, status);
    app.get(
      '/user',
      { schema: { ...statusSchema, summary: 'Alias of /auth/status' }, preHandler: authenticate },
      status,
    );

    app.post('/refresh', { schema: refreshSchema, config: rateLimited }, async (request, reply) => {
      assertCookieRequestAllowed(request);
      const token = refreshCookie.read(request);
      try {
        if (token === undefined) throw new AuthError('invalid_refresh_token');
        return sendSession(reply, 200, await sessions.refresh(token));
      } catch (error) {
        if (error instanceof AuthError && error.code === 'invalid_refresh_token')
          refreshCookie.clear(reply);
        throw error;
      }
    });

    app.post('/logout', { schema: logoutSchema }, async (request, reply) => {
      const cookieToken = refreshCookie.read(request);
      let claims: AccessClaims | undefined;
      let bearerError: unknown;
      try {
        const token = bearerToken(request.headers.authorization);
        if (token !== undefined) claims = await sessions.authenticate(token);
      } catch (error) {
        bearerError = error;
      }
      if (claims === undefined && cookieToken === undefined)
        throw bearerError ?? new AuthError('missing_token');

      let ended = false;
      if (claims !== undefined) ended = await sessions.end(claims.sub, claims.sid);
      if (cookieToken !== undefined) {
        // The cookie alone authenticates this request unless a valid bearer token came with it.
        if (claims === undefined) assertCookieRequestAllowed(request);
        ended = (await sessions.endByRefreshToken(cookieToken)) || ended;
      }
      refreshCookie.clear(reply);
      if (!ended && claims === undefined)
        throw bearerError ?? new AuthError('invalid_refresh_token');
      return { status: 'success', message: MESSAGES.loggedOut };
    });

    app.post<{ Body: PasswordChange }>(
      '/password',
      { schema: passwordSchema, preHandler: authenticate },
      async (request) => {
        const { sub, sid } = claimsOf(request);
        await accounts.changePassword(
          sub,
          sid,
          request.body.current_password,
          request.body.new_password,
        );
        return {
          status: 'success',
          message: 'Password changed. Your other sessions have been signed out.',
        };
      },
    );

    app.get(
      '/sessions',
      { schema: listSessionsSchema, preHandler: authenticate },
      async (request) => {
        const { sub, sid } = claimsOf(request);
        const live = await sessions.listLive(sub);
        return {
          status: 'success',
          data: live.map((s) => ({
            id: s.id,
            created_at: iso(s.createdAt),
            last_used_at: iso(s.lastUsedAt),
            expires_at: iso(Math.min(s.idleExpiresAt, s.expiresAt)),
            user_agent: s.userAgent,
            ip: s.ip,
            current: s.id === sid,
          })),
        };
      },
    );

    app.delete<{ Params: { id: string } }>(
      '/sessions/:id',
      { schema: endSessionSchema, preHandler: authenticate },
      async (request, reply) => {
        const { sub, sid } = claimsOf(request);
        if (!(await sessions.end(sub, request.params.id))) {
          throw new AuthError('not_found', { message: 'No such session.' });
        }
        if (request.params.id === sid) {
          refreshCookie.clear(reply);
          return { status: 'success', message: MESSAGES.loggedOut };
        }
        return { status: 'success', message: 'Session ended.' };
      },
    );

    app.delete(
      '/sessions',
      { schema: endOtherSessionsSchema, preHandler: authenticate },
      async (request) => {
        const { sub, sid } = claimsOf(request);
        const ended = await sessions.endOthers(sub, sid);
        return {
          status: 'success',
          message:
            ended === 1
              ? 'Signed out of 1 other session.'
              : `Signed out of ${ended} other sessions.`,
          data: { ended },
        };
      },
    );
  };
}
