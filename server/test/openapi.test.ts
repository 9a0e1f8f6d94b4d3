import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ERROR_STATUS, OPERATIONS } from '@latchkey/contract';
import { createTestApp, type TestApp } from './support/test-app.ts';

interface OpenApiOperation {
  operationId?: string;
  summary?: string;
  security?: unknown[];
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}
interface Schema {
  properties?: { code?: { enum?: string[] } };
}
interface OpenApiDocument {
  info: { version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
}

const serverVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  before(async () => {
    t = await createTestApp();
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  after(() => t.close());

  test('lists exactly the operations of the contract, at their methods and paths', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => `${op.operationId} ${method} ${path}`),
    );
    const contract = Object.entries(OPERATIONS).map(
      ([id, op]) => `${id} ${op.method.toLowerCase()} ${op.path.replace(/:([a-z_]+)/g, '{$1}')}`,
    );
    assert.deepEqual(documented.sort(), contract.sort());
  });

  test('carries the server package version', () => {
    assert.equal(doc.info.version, serverVersion);
  });

  test('enumerates the codes of every failure status, each under its own status', () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        assert.ok(op.summary, `${method} ${path} has a summary`);
        assert.ok(Array.isArray(op.security), `${method} ${path} declares its security`);
        for (const [status, response] of Object.entries(op.responses)) {
          assert.notEqual(response.description, 'Default Response', `${method} ${path} ${status}`);
          const codes = response.content?.['application/json']?.schema.properties?.code?.enum ?? [];
          for (const code of codes) {
            assert.equal(
              String(ERROR_STATUS[code as keyof typeof ERROR_STATUS]),
              status,
              `${method} ${path}: ${code} is documented under ${status}`,
            );
          }
          if (Number(status) >= 400 && path.startsWith('/auth')) {
            assert.ok(codes.length > 0, `${method} ${path} ${status} enumerates its codes`);
          }
        }
      }
    }
  });

  test('a refused route answers with a code its operation documents', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/auth/login', payload: {} });
    assert.equal(res.statusCode, 400);
    const code = (res.json() as { code: string }).code;
    const documented =
      doc.paths['/auth/login']?.['post']?.responses['400']?.content?.['application/json']?.schema
        .properties?.code?.enum;
    assert.ok(documented?.includes(code), `${code} is in ${String(documented)}`);
  });
});
