/**
 * Operator commands: `npm run latchkey -- <command>` from the repository root.
 *
 *   migrate       apply pending database migrations and exit
 *   rotate-keys   create a new signing key; older keys stay valid until their tokens expire
 */
import { ConfigError, loadConfig } from './config.ts';
import { createServices } from './services/create-services.ts';
import { openStore } from './store/open-store.ts';

const USAGE = `Usage: npm run latchkey -- <command>

Commands:
  migrate       Apply pending database migrations (start-up does this too).
  rotate-keys   Create a new signing key. Running servers sign with it within a second;
                tokens signed with older keys stay valid until they expire.
`;

async function run(command: string | undefined): Promise<number> {
  if (command !== 'migrate' && command !== 'rotate-keys') {
    process.stderr.write(USAGE);
    return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
  const config = loadConfig(process.env);
  const store = await openStore(config); // opening migrates
  try {
    if (command === 'migrate') {
      process.stdout.write('Database is up to date.\n');
    } else {
      const { accessTokens } = createServices({ config, store });
      await accessTokens.loadKeys();
      const kid = await accessTokens.rotateKeys();
      process.stdout.write(`New signing key ${kid} is active; older keys are retired.\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

run(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
