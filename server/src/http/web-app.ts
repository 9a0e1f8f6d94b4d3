import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../errors.ts';
import { sendFailure } from './error-handler.ts';

/**
 * Serves the built web app at `/` and answers everything that matches no route: a GET outside
 * the API (`/auth`, `/auth/…`, `/admin/…`) gets the app's index.html (history routing), anything
 * else a JSON 404. `/admin` itself is the app's admin page: it gets the document's headers (the
 * API's CSP would block its scripts), still `no-store` like everything under `/admin`.
 */
export async function registerWebApp(
  app: FastifyInstance,
  webDir: string,
  documentHeaders: Readonly<Record<string, string>>,
): Promise<void> {
  const hasApp = existsSync(join(webDir, 'index.html'));
  if (hasApp) {
    await app.register(fastifyStatic, {
      root: webDir,
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
    });
  }
  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '';
    const isApi = path === '/auth' || path.startsWith('/auth/') || path.startsWith('/admin/');
    if (hasApp && !isApi && (request.method === 'GET' || request.method === 'HEAD')) {
      reply.headers(documentHeaders);
      reply.header('cache-control', path === '/admin' ? 'no-store' : 'no-cache');
      return reply.sendFile('index.html');
    }
    return sendFailure(reply, new AuthError('not_found'));
  });
}
