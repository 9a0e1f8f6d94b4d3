/**
 * Operator commands: `npm run latchkey -- <command>` from the repository root, against the
 * database the environment names (SQLite under DATA_DIR, or DATABASE_URL). Each prints one line
 * and exits 0, or prints a clear message and exits non-zero (1 for a failure, 2 for bad usage).
 */
import { createInterface } from 'node:readline';
import { AuthError } from './errors.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import type { Actor } from './services/admin.ts';
import { createServices, type Services } from './services/create-services.ts';
import { openStore } from './store/open-store.ts';

const USAGE = `Usage: npm run latchkey -- <command>

Commands:
  create-admin --email E  Create an admin account; the password is read from stdin (one line).
  grant-admin E           Make the account with email E an admin.
  revoke-admin E          Remove the admin role from E.
  disable-user E          Disable E: every session ends at once; logins answer account_disabled.
  enable-user E           Enable E again.
  end-sessions E          End every session of E at once.
  reset-mfa E             Remove E's second factors (lost authenticator and recovery codes);
                          every session ends, and E signs in with the password alone.
  list-users [--query Q]  List accounts (those whose email contains Q).
  migrate                 Apply pending database migrations (start-up does this too).
  rotate-keys             Create a new signing key. Running servers sign with it within a second;
                          tokens signed with older keys stay valid until they expire.
`;

/** The CLI acts as no user: events name no actor, and say it came from here. */
const CLI: Actor = { id: null, client: { ip: undefined, userAgent: 'latchkey-cli' } };

class UsageError extends Error {}

function describeDatabase(config: Config): string {
  if (config.databaseUrl === undefined) return `in ${config.dataDir}`;
  const url = new URL(config.databaseUrl);
  return `at ${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

/** The innermost message of an error chain (a migration failure wraps the connection's). */
function rootCause(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  if (current instanceof AggregateError && current.errors.length > 0) current = current.errors[0];
  return current instanceof Error ? current.message || current.name : String(current);
}

/** The first line of stdin, without its line ending; never echoed, never from argv. */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password for the new admin, then Enter: ');
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new UsageError('create-admin reads the password from stdin: none was given.');
}

function emailArgument(args: string[], command: string): string {
  const email = args[0];
  if (email === undefined || email.startsWith('--')) {
    throw new UsageError(
      `${command} needs an email: npm run latchkey -- ${command} ada@example.com`,
    );
  }
  return email;
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at === -1) return undefined;
  const value = args[at + 1];
  if (value === undefined) throw new UsageError(`${name} needs a value.`);
  return value;
}

const COMMANDS: Record<string, (services: Services, args: string[]) => Promise<string>> = {
  async 'create-admin'(services, args) {
    const email = option(args, '--email');
    if (email === undefined) throw new UsageError('create-admin needs --email E.');
    const user = await services.admin.createAdmin(email, await readPassword());
    return `Admin ${user.email} created (id ${user.id}).`;
  },
  async 'grant-admin'(services, args) {
    const user = await services.admin.findByEmail(emailArgument(args, 'grant-admin'));
    await services.admin.setAdmin(CLI, user.id, true);
    return `${user.email} is an admin now.`;
  },
  async 'revoke-admin'(services, args) {
    const user = await services.admin.findByEmail(emailArgument(args, 'revoke-admin'));
    await services.admin.setAdmin(CLI, user.id, false);
    return `${user.email} is no longer an admin.`;
  },
  async 'disable-user'(services, args) {
    const user = await services.admin.findByEmail(emailArgument(args, 'disable-user'));
    await services.admin.setDisabled(CLI, user.id, true);
    return `${user.email} is disabled; its sessions have ended.`;
  },
  async 'enable-user'(services, args) {
    const user = await services.admin.findByEmail(emailArgument(args, 'enable-user'));
    await services.admin.setDisabled(CLI, user.id, false);
    return `${user.email} is enabled.`;
  },
  async 'end-sessions'(services, args) {
    const user = await services.admin.findByEmail(emailArgument(args, 'end-sessions'));
    const ended = await services.admin.endSessions(CLI, user.id);
    return `Ended ${ended} session${ended === 1 ? '' : 's'} of ${user.email}.`;
  },
  async 'reset-mfa'(services, args) {
    const user = await services.admin.findByEmail(emailArgument(args, 'reset-mfa'));
    await services.admin.resetSecondFactors(CLI, user.id);
    return `${user.email} has no second factor now; its sessions have ended.`;
  },
  async 'list-users'(services, args) {
    const query = option(args, '--query');
    const lines: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await services.admin.listUsers({
        ...(query === undefined ? {} : { query }),
        limit: 100,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const u of page.items) {
        const flags = [u.admin ? 'admin' : '', u.disabledAt !== null ? 'disabled' : '']
          .filter(Boolean)
          .join(',');
        lines.push(`${u.id}  ${u.email}${flags === '' ? '' : `  [${flags}]`}`);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return lines.length === 0 ? 'No accounts match.' : lines.join('\n');
  },
  async migrate() {
    return 'Database is up to date.';
  },
  async 'rotate-keys'(services) {
    await services.accessTokens.loadKeys();
    const kid = await services.accessTokens.rotateKeys();
    return `New signing key ${kid} is active; older keys are retired.`;
  },
};

async function run(command: string | undefined, args: string[]): Promise<number> {
  const action = command === undefined ? undefined : COMMANDS[command];
  if (action === undefined) {
    process.stderr.write(USAGE);
    return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
  const config = loadConfig(process.env);
  const store = await openStore(config).catch((error: unknown) => {
    // Opening migrates; name where it looked (never the URL's password) and the first cause.
    throw new Error(
      `The database ${describeDatabase(config)} cannot be reached: ${rootCause(error)}`,
    );
  });
  try {
    process.stdout.write(`${await action(createServices({ config, store }), args)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

run(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    const message =
      error instanceof ConfigError || error instanceof AuthError || error instanceof Error
        ? error.message
        : String(error);
    process.stderr.write(`${message}\n`);
    process.exit(1);
  },
);
