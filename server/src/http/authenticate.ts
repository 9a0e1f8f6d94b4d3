import type { FastifyRequest } from 'fastify';
import { AuthError } from '../errors.ts';
import type { AccessClaims } from '../services/access-tokens.ts';
import type { Sessions } from '../services/sessions.ts';
import { bearerToken } from './bearer-token.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `authenticate` hook on routes that require a bearer token. */
    auth: AccessClaims | null;
  }
}

/**
 * A preHandler for routes that need a valid, unrevoked access token. It is attached per route
 * (never by URL prefix) and costs a header parse, a cached verification and a map look-up.
 */
export function createAuthenticate(sessions: Sessions) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new AuthError('missing_token');
    request.auth = await sessions.authenticate(token);
  };
}
