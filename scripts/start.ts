/**
 * `npm start`: builds the web app when its build is missing or older than its sources, then
 * runs the server, which serves the app at `/` and the API under `/auth`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const builtIndex = join(root, 'web/dist/web/browser/index.html');
const sources = [
  'web/src',
  'web/public',
  'web/angular.json',
  'packages/angular/src',
  'packages/contract/src',
];

/** The newest modification time under a file or directory. */
function newest(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce(
    (max, name) => Math.max(max, newest(join(path, name))),
    stats.mtimeMs,
  );
}

const stale =
  !existsSync(builtIndex) ||
  sources.some(
    (s) => existsSync(join(root, s)) && newest(join(root, s)) > statSync(builtIndex).mtimeMs,
  );
if (stale && process.env['WEB_DIR'] === undefined) {
  process.stdout.write('Building the web app (once; again only when its sources change)…\n');
  const build = spawnSync(join(root, 'node_modules/.bin/ng'), ['build'], {
    cwd: join(root, 'web'),
    stdio: 'inherit',
    env: { ...process.env, NG_CLI_ANALYTICS: 'false' },
  });
  if (build.status !== 0) {
    process.stderr.write('The web app failed to build; starting the API alone.\n');
  }
}

await import('../server/src/main.ts');
