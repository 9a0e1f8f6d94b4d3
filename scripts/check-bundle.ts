/**
 * The web app's initial JavaScript (the scripts index.html loads before anything else) must stay
 * at most 100 kB gzip. Prints the figure; exits 1 over budget or when the build is missing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 100 * 1000;
const dist = new URL('../web/dist/web/browser/', import.meta.url).pathname;

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [
  ...html.matchAll(/<script[^>]*\ssrc="([^"]+\.js)"/g),
  ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g),
].map((m) => m[1] ?? '');
if (initial.length === 0) {
  process.stderr.write('No initial script found in web/dist/web/browser/index.html.\n');
  process.exit(1);
}
let total = 0;
for (const file of new Set(initial)) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += size;
  process.stdout.write(`${file}: ${(size / 1000).toFixed(1)} kB gzip\n`);
}
process.stdout.write(
  `Initial JavaScript: ${(total / 1000).toFixed(1)} kB gzip (budget ${BUDGET_BYTES / 1000} kB)\n`,
);
process.exit(total <= BUDGET_BYTES ? 0 : 1);
