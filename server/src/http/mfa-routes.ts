import { MESSAGES, OPERATIONS } from '@latchkey/contract';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessClaims } from '../services/access-tokens.ts';
import type { SecondFactors } from '../services/second-factors.ts';
import type { ClientInfo, Sessions } from '../services/sessions.ts';
import { route } from './route.ts';

export interface MfaRoutesDeps {
  secondFactors: SecondFactors;
  sessions: Sessions;
  authenticate: (request: FastifyRequest) => Promise<void>;
  clientOf: (request: FastifyRequest) => ClientInfo;
  claimsOf: (request: FastifyRequest) => AccessClaims;
}

/** Checks a password or a code: the per-IP limit applies, like login. */
const rateLimited = { rateLimit: {} };

/** The signed-in user's second factors (`/auth/mfa/…`), inside the API plugin. */
export function registerMfaRoutes(fastify: FastifyInstance, deps: MfaRoutesDeps): void {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>();
  const { secondFactors, authenticate, clientOf, claimsOf } = deps;

  app.route({
    ...route(OPERATIONS.getSecondFactors),
    preHandler: authenticate,
    handler: async (request) => {
      const found = await secondFactors.status(claimsOf(request).sub);
      return {
        status: 'success',
        data: { totp: found.totp, recovery_codes_left: found.recoveryCodesLeft },
      } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.startTotp),
    config: rateLimited,
    preHandler: authenticate,
    handler: async (request) => {
      const enrolment = await secondFactors.beginTotp(
        claimsOf(request).sub,
        request.body.current_password,
        clientOf(request),
      );
      return {
        status: 'success',
        data: {
          secret: enrolment.secret,
          otpauth_url: enrolment.otpauthUrl,
          qr_svg: enrolment.qrSvg,
        },
      } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.confirmTotp),
    config: rateLimited,
    preHandler: authenticate,
    handler: async (request) => {
      const codes = await secondFactors.confirmTotp(
        claimsOf(request).sub,
        request.body.code,
        clientOf(request),
      );
      return {
        status: 'success',
        message: MESSAGES.totpEnabled,
        data: { recovery_codes: codes },
      } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.removeTotp),
    config: rateLimited,
    preHandler: authenticate,
    handler: async (request) => {
      const { sub, sid } = claimsOf(request);
      const { current_password, code, recovery_code } = request.body;
      await secondFactors.removeTotp(
        sub,
        { code, recoveryCode: recovery_code },
        current_password,
        clientOf(request),
      );
      // A factor removed: whoever else holds a session must sign in again (issue 13).
      await deps.sessions.endOthers(sub, sid, clientOf(request), 'mfa_removed');
      return { status: 'success', message: MESSAGES.totpRemoved } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.regenerateRecoveryCodes),
    config: rateLimited,
    preHandler: authenticate,
    handler: async (request) => {
      const codes = await secondFactors.regenerateRecoveryCodes(
        claimsOf(request).sub,
        { code: request.body.code, recoveryCode: request.body.recovery_code },
        clientOf(request),
      );
      return {
        status: 'success',
        message: 'New recovery codes; the old ones no longer work.',
        data: { recovery_codes: codes },
      } as const;
    },
  });
}
