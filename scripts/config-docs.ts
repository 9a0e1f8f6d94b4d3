/**
 * `npm run config-docs`: writes `.env.example` and the README's "Configure it" table from the
 * table of variables in server/src/config-variables.ts. Run it after changing that table;
 * server/test/config.test.ts fails until the committed files match.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvExample, withConfigTable } from '../server/src/config-docs.ts';

const root = new URL('..', import.meta.url).pathname;

/** Writes `path` when its content differs, and says which it was. */
function update(path: string, render: (current: string) => string): void {
  const file = join(root, path);
  const current = readFileSync(file, 'utf8');
  const next = render(current);
  if (next === current) {
    process.stdout.write(`${path}: up to date\n`);
    return;
  }
  writeFileSync(file, next);
  process.stdout.write(`${path}: written\n`);
}

update('.env.example', () => renderEnvExample());
update('README.md', withConfigTable);
