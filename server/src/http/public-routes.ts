import { OPERATIONS } from '@latchkey/contract';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyInstance } from 'fastify';
import type { AccessTokens } from '../services/access-tokens.ts';
import { route } from './route.ts';
import { markApiRoutes } from './security-headers.ts';

export interface PublicRoutesDeps {
  accessTokens: AccessTokens;
  /** Resolves when the database answers. */
  pingDatabase: () => Promise<void>;
  onHealthFailure: (error: unknown) => void;
}

/** JWKS for resource servers that verify tokens themselves, and the health check. */
export function publicRoutes(deps: PublicRoutesDeps) {
  return async function plugin(fastify: FastifyInstance): Promise<void> {
    const app = fastify.withTypeProvider<JsonSchemaToTsProvider>();
    markApiRoutes(app);
    app.route({
      ...route(OPERATIONS.getJwks),
      handler: async (_request, reply) => {
        // Short cache: a rotated key appears within a minute; verifiers refetch on an unknown kid.
        reply.header('cache-control', 'public, max-age=60');
        return deps.accessTokens.jwks();
      },
    });

    app.route({
      ...route(OPERATIONS.getHealth),
      handler: async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        try {
          await deps.pingDatabase();
          return { status: 'ok' } as const;
        } catch (error) {
          deps.onHealthFailure(error);
          return reply.code(503).send({ status: 'unavailable' });
        }
      },
    });
  };
}
