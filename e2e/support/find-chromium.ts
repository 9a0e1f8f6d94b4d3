/**
 * Where Chromium is: `CHROMIUM_PATH` when set, else the first `chromium`, `chromium-browser` or
 * `google-chrome` on PATH (what `which` would print). playwright-core never downloads a browser,
 * so without one the browser tests fail at once, saying what to install or set.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The names Debian, Ubuntu and Google's package give the browser, in order of preference. */
const NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

export const CHROMIUM_HINT =
  'Install Chromium (`apt-get install -y chromium` on Debian, as root) or set CHROMIUM_PATH to ' +
  'a Chromium or Chrome executable.';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The Chromium executable to launch; throws, saying what to do, when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['CHROMIUM_PATH'];
  if (explicit !== undefined && explicit !== '') {
    if (isExecutableFile(explicit)) return explicit;
    throw new Error(
      `CHROMIUM_PATH is ${explicit}, which is not an executable file. ${CHROMIUM_HINT}`,
    );
  }
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const name of NAMES) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  throw new Error(`No Chromium found (looked for ${NAMES.join(', ')} on PATH). ${CHROMIUM_HINT}`);
}
