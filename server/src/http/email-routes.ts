import { MESSAGES, OPERATIONS } from '@latchkey/contract';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessClaims } from '../services/access-tokens.ts';
import type { EmailFlows } from '../services/email-flows.ts';
import type { ClientInfo } from '../services/sessions.ts';
import { route } from './route.ts';

export interface EmailRoutesDeps {
  emailFlows: EmailFlows;
  authenticate: (request: FastifyRequest) => Promise<void>;
  clientOf: (request: FastifyRequest) => ClientInfo;
  claimsOf: (request: FastifyRequest) => AccessClaims;
}

/** Every route here takes a token, a password or sends mail: each gets the per-IP limit. */
const rateLimited = { rateLimit: {} };

/**
 * The email routes (v2 contract: verification, password reset, email change), registered inside
 * the `/auth` plugin so they share its hooks and headers. The link tokens arrive only in POST
 * bodies: the links open web pages, which spend nothing until the user clicks.
 */
export function registerEmailRoutes(app: FastifyInstance, deps: EmailRoutesDeps): void {
  const typed = app.withTypeProvider<JsonSchemaToTsProvider>();
  const { emailFlows, authenticate, clientOf, claimsOf } = deps;

  typed.route({
    ...route(OPERATIONS.requestEmailVerification),
    config: rateLimited,
    preHandler: authenticate,
    handler: async (request, reply) => {
      const outcome = await emailFlows.requestVerification(
        claimsOf(request).sub,
        clientOf(request),
      );
      return reply.code(202).send({
        status: 'success',
        message: outcome === 'sent' ? MESSAGES.verificationSent : MESSAGES.alreadyVerified,
      });
    },
  });

  typed.route({
    ...route(OPERATIONS.verifyEmail),
    config: rateLimited,
    handler: async (request) => {
      await emailFlows.verify(request.body.token, clientOf(request));
      return { status: 'success', message: MESSAGES.emailVerified } as const;
    },
  });

  typed.route({
    ...route(OPERATIONS.forgotPassword),
    config: rateLimited,
    handler: async (request, reply) => {
      await emailFlows.forgotPassword(request.body.email, clientOf(request));
      return reply.code(202).send({ status: 'success', message: MESSAGES.resetRequested });
    },
  });

  typed.route({
    ...route(OPERATIONS.resetPassword),
    config: rateLimited,
    handler: async (request) => {
      const { token, new_password } = request.body;
      await emailFlows.resetPassword(token, new_password, clientOf(request), {
        code: request.body.code,
        recoveryCode: request.body.recovery_code,
      });
      return { status: 'success', message: MESSAGES.passwordReset } as const;
    },
  });

  typed.route({
    ...route(OPERATIONS.changeEmail),
    config: rateLimited,
    preHandler: authenticate,
    handler: async (request, reply) => {
      const { sub, sid } = claimsOf(request);
      const { new_email, current_password } = request.body;
      await emailFlows.requestEmailChange(
        sub,
        sid,
        new_email,
        current_password,
        clientOf(request),
        {
          code: request.body.code,
          recoveryCode: request.body.recovery_code,
        },
      );
      return reply.code(202).send({ status: 'success', message: MESSAGES.emailChangeRequested });
    },
  });

  typed.route({
    ...route(OPERATIONS.confirmEmailChange),
    config: rateLimited,
    handler: async (request) => {
      await emailFlows.confirmEmailChange(request.body.token, clientOf(request));
      return { status: 'success', message: MESSAGES.emailChanged } as const;
    },
  });
}
