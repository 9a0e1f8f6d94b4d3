import type { FastifyInstance } from 'fastify';
import type { AccessTokens } from '../services/access-tokens.ts';
import { healthSchema, jwksSchema } from './schemas.ts';
import { markApiRoutes } from './security-headers.ts';

export interface PublicRoutesDeps {
  accessTokens: AccessTokens;
  /** Resolves when the database answers. */
  pingDatabase: () => Promise<void>;
  onHealthFailure: (error: unknown) => void;
}

/** JWKS for resource servers that verify tokens themselves, and the health check. */
export function publicRoutes(deps: PublicRoutesDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    markApiRoutes(app);
    app.get('/.well-known/jwks.json', { schema: jwksSchema }, async (_request, reply) => {
      // Short cache: a rotated key appears within a minute; verifiers refetch on an unknown kid.
      reply.header('cache-control', 'public, max-age=60');
      return deps.accessTokens.jwks();
    });

    app.get('/health', { schema: healthSchema }, async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      try {
        await deps.pingDatabase();
        return { status: 'ok' };
      } catch (error) {
        deps.onHealthFailure(error);
        return reply.code(503).send({ status: 'unavailable' });
      }
    });
  };
}
