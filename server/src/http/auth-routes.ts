import { MESSAGES, OPERATIONS, type SignedInBody, type TokenBody } from '@latchkey/contract';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, CAUSE_MESSAGES } from '../errors.ts';
import type { AccessClaims } from '../services/access-tokens.ts';
import type { Accounts } from '../services/accounts.ts';
import type { Admin } from '../services/admin.ts';
import type { SecondFactors } from '../services/second-factors.ts';
import type { EmailFlows } from '../services/email-flows.ts';
import { DEVICE_COOKIE_MAX_AGE_SECONDS } from '../services/login-throttle.ts';
import type { ClientInfo, IssuedSession, Sessions } from '../services/sessions.ts';
import { bearerToken } from './bearer-token.ts';
import type { RefreshCookie } from './refresh-cookie.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { registerEmailRoutes } from './email-routes.ts';
import { registerMfaRoutes } from './mfa-routes.ts';
import { route } from './route.ts';
import { sessionDataOf } from './session-data.ts';
import { markApiRoutes } from './security-headers.ts';

export interface AuthRoutesDeps {
  accounts: Accounts;
  emailFlows: EmailFlows;
  admin: Admin;
  secondFactors: SecondFactors;
  sessions: Sessions;
  refreshCookie: RefreshCookie;
  deviceCookie: RefreshCookie;
  authenticate: (request: FastifyRequest) => Promise<void>;
  assertCookieRequestAllowed: (request: FastifyRequest) => void;
}

const rateLimited = { rateLimit: {} };

/**
 * The `/auth` API. Each route is registered from its operation in the contract (method, path,
 * schemas), and the type provider checks every handler against that operation's answers.
 */
export function authRoutes(deps: AuthRoutesDeps) {
  const { accounts, sessions, refreshCookie, deviceCookie, authenticate } = deps;
  const { assertCookieRequestAllowed } = deps;

  const clientOf = (request: FastifyRequest): ClientInfo => ({
    userAgent: request.headers['user-agent'],
    ip: request.ip,
  });
  const claimsOf = (request: FastifyRequest): AccessClaims => {
    if (request.auth === null) throw new AuthError('missing_token');
    return request.auth;
  };
  /** Sets the refresh cookie and returns the token body of a sign-in or refresh. */
  const tokenBody = (reply: FastifyReply, issued: IssuedSession): TokenBody => {
    refreshCookie.set(reply, issued.refreshToken, issued.refreshMaxAgeSeconds);
    return {
      status: 'success',
      auth_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: issued.expiresInSeconds,
    };
  };
  const signedIn = (reply: FastifyReply, issued: IssuedSession, message: string): SignedInBody => ({
    ...tokenBody(reply, issued),
    message,
  });

  return async function plugin(fastify: FastifyInstance): Promise<void> {
    const app = fastify.withTypeProvider<JsonSchemaToTsProvider>();
    app.decorateRequest('auth', null);
    markApiRoutes(app);

    app.route({
      ...route(OPERATIONS.register),
      config: rateLimited,
      handler: async (request, reply) => {
        const { email, password } = request.body;
        const issued = await accounts.register(email, password, clientOf(request));
        if (issued === null) {
          // REQUIRE_EMAIL_VERIFICATION: registered only; the session starts at the first login.
          return reply
            .code(201)
            .send({ status: 'success', message: MESSAGES.registeredVerifyEmail });
        }
        return reply.code(201).send(signedIn(reply, issued, MESSAGES.registered));
      },
    });

    app.route({
      ...route(OPERATIONS.logIn),
      config: rateLimited,
      handler: async (request, reply) => {
        const { email, password } = request.body;
        const issued = await accounts.logIn(
          email,
          password,
          clientOf(request),
          deviceCookie.read(request),
        );
        if ('mfaToken' in issued) {
          // The right password, a second factor to go: no token, no cookie yet.
          return reply.code(202).send({
            status: 'success',
            message: MESSAGES.mfaRequired,
            mfa_token: issued.mfaToken,
            mfa_methods: ['totp', 'recovery_code'],
          });
        }
        deviceCookie.set(reply, issued.deviceToken, DEVICE_COOKIE_MAX_AGE_SECONDS);
        return signedIn(reply, issued, MESSAGES.loggedIn);
      },
    });

    app.route({
      ...route(OPERATIONS.completeLogin),
      config: rateLimited,
      handler: async (request, reply) => {
        const { mfa_token, code, recovery_code } = request.body;
        const issued = await accounts.completeLogIn(
          mfa_token,
          { code, recoveryCode: recovery_code },
          clientOf(request),
        );
        return signedIn(reply, issued, MESSAGES.loggedIn);
      },
    });

    for (const operation of [OPERATIONS.getStatus, OPERATIONS.getUser]) {
      app.route({
        ...route(operation),
        preHandler: authenticate,
        handler: async (request) => {
          const user = await accounts.findUser(claimsOf(request).sub);
          return {
            status: 'success',
            data: {
              user_id: user.id,
              email: user.email,
              email_verified: user.emailVerified,
              admin: user.admin,
              registered_on: user.registeredOn,
            },
          } as const;
        },
      });
    }

    app.route({
      ...route(OPERATIONS.refresh),
      config: rateLimited,
      handler: async (request, reply) => {
        assertCookieRequestAllowed(request);
        const token = refreshCookie.read(request);
        try {
          if (token === undefined) throw new AuthError('invalid_refresh_token');
          return tokenBody(reply, await sessions.refresh(token, clientOf(request)));
        } catch (error) {
          if (error instanceof AuthError && error.code === 'invalid_refresh_token')
            refreshCookie.clear(reply);
          throw error;
        }
      },
    });

    app.route({
      ...route(OPERATIONS.logOut),
      handler: async (request, reply) => {
        const cookieToken = refreshCookie.read(request);
        let claims: AccessClaims | undefined;
        let bearerError: AuthError | undefined;
        try {
          const token = bearerToken(request.headers.authorization);
          if (token !== undefined) claims = await sessions.authenticate(token);
        } catch (error) {
          if (!(error instanceof AuthError)) throw error;
          bearerError = error;
        }
        if (claims === undefined && cookieToken === undefined)
          throw bearerError ?? new AuthError('missing_token');

        let ended = false;
        if (claims !== undefined)
          ended = await sessions.end(claims.sub, claims.sid, clientOf(request));
        if (cookieToken !== undefined) {
          // The cookie alone authenticates this request unless a valid bearer token came with it.
          if (claims === undefined) assertCookieRequestAllowed(request);
          ended = (await sessions.endByRefreshToken(cookieToken, clientOf(request))) || ended;
        }
        refreshCookie.clear(reply);
        if (!ended && claims === undefined)
          throw bearerError ?? new AuthError('invalid_refresh_token');
        return { status: 'success', message: MESSAGES.loggedOut } as const;
      },
    });

    app.route({
      ...route(OPERATIONS.changePassword),
      // It checks a password: the per-IP limit applies as on login (v2 contract).
      config: rateLimited,
      preHandler: authenticate,
      handler: async (request) => {
        const { sub, sid } = claimsOf(request);
        const { current_password, new_password } = request.body;
        await accounts.changePassword(sub, sid, current_password, new_password, clientOf(request), {
          code: request.body.code,
          recoveryCode: request.body.recovery_code,
        });
        return { status: 'success', message: MESSAGES.passwordChanged } as const;
      },
    });

    app.route({
      ...route(OPERATIONS.listSessions),
      preHandler: authenticate,
      handler: async (request) => {
        const { sub, sid } = claimsOf(request);
        const live = await sessions.listLive(sub);
        return {
          status: 'success',
          data: live.map((s) => sessionDataOf(s, sid)),
        } as const;
      },
    });

    app.route({
      ...route(OPERATIONS.endSession),
      preHandler: authenticate,
      handler: async (request, reply) => {
        const { sub, sid } = claimsOf(request);
        const reason = request.params.id === sid ? 'signed_out' : 'ended_by_user';
        if (!(await sessions.end(sub, request.params.id, clientOf(request), reason))) {
          throw new AuthError('not_found', { message: CAUSE_MESSAGES.noSuchSession });
        }
        if (request.params.id === sid) {
          refreshCookie.clear(reply);
          return { status: 'success', message: MESSAGES.loggedOut } as const;
        }
        return { status: 'success', message: MESSAGES.sessionEnded } as const;
      },
    });

    app.route({
      ...route(OPERATIONS.endOtherSessions),
      preHandler: authenticate,
      handler: async (request) => {
        const { sub, sid } = claimsOf(request);
        const ended = await sessions.endOthers(sub, sid, clientOf(request), 'signed_out_elsewhere');
        return {
          status: 'success',
          message:
            ended === 1
              ? 'Signed out of 1 other session.'
              : `Signed out of ${ended} other sessions.`,
          data: { ended },
        } as const;
      },
    });

    registerMfaRoutes(fastify, {
      secondFactors: deps.secondFactors,
      sessions,
      authenticate,
      clientOf,
      claimsOf,
    });
    registerAdminRoutes(fastify, { admin: deps.admin, authenticate, clientOf, claimsOf });
    registerEmailRoutes(fastify, { emailFlows: deps.emailFlows, authenticate, clientOf, claimsOf });
  };
}
