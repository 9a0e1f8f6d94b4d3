import type { FastifyInstance } from 'fastify';

/**
 * Only JSON bodies are read: no text/plain or form parser, so a cross-site form cannot post here
 * (a JSON content type needs a CORS preflight, which only listed origins pass). An empty JSON
 * body reads as `{}` (a bodiless refresh or logout with the JSON content type). `__proto__` and
 * `constructor.prototype` keys are refused (Fastify's secure-json-parse).
 */
export function acceptJsonBodiesOnly(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || body.length === 0) done(null, {});
    else void parseJson(request, body as string, done);
  });
}
