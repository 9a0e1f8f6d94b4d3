/**
 * Lints the OpenAPI document the server serves at /openapi.json with Redocly's recommended rules
 * (redocly.yaml): it builds the real app on a throwaway SQLite database, takes the document, and
 * runs `redocly lint` on it. Exit code 0 only when there is no error and no warning. `npm test`
 * runs it; `npm run lint:openapi` runs it alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../server/src/app.ts';
import { loadConfig } from '../server/src/config.ts';
import { openStore } from '../server/src/store/open-store.ts';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'latchkey-openapi-'));
let status: number;
try {
  const config = loadConfig({ DATA_DIR: dir, WEB_DIR: dir, PUBLIC_URL: 'http://127.0.0.1:3000' });
  const store = await openStore(config);
  const { app } = await buildApp({ config, store });
  await app.ready();
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(app.swagger(), null, 2));
  await app.close();
  await store.close();
  const result = spawnSync(
    join(root, 'node_modules', '.bin', 'redocly'),
    ['lint', file, '--config', join(root, 'redocly.yaml'), '--max-problems', '200'],
    {
      stdio: 'inherit',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  status = result.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = status;
