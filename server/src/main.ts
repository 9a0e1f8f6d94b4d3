/**
 * The process edge: read the environment once, open the store, build the app, listen, and close
 * everything in order on SIGTERM/SIGINT.
 */
import { inspect } from 'node:util';
import { buildApp, REDACTED_LOG_PATHS } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { lowerThreadpoolPriority } from './lower-threadpool-priority.ts';
import { openStore } from './store/open-store.ts';

/** How long requests in flight may take to finish after SIGTERM before connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `${error.message}\nSee .env.example for every setting and its default.\n`,
      );
      process.exit(1);
    }
    throw error;
  }

  const store = await openStore(config);
  const { app } = await buildApp({
    config,
    store,
    logger: { level: config.logLevel, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } },
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    // A client that keeps a connection open must not hold the process forever.
    setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    // app.close stops accepting, waits for requests in flight, then runs onClose hooks.
    app
      .close()
      .then(() => store.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  if (config.keyEncryptionKey === undefined) {
    app.log.warn(
      'KEY_ENCRYPTION_KEY is not set: the private signing keys are stored unencrypted. Anyone ' +
        'who reads the database can sign tokens. Set it to 32 random bytes in base64 ' +
        '(openssl rand -base64 32); existing keys are encrypted at the next start.',
    );
  }
  if (config.hashThreadNice > 0) await lowerThreadpoolPriority(config.hashThreadNice);
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    {
      publicUrl: config.publicUrl,
      database: config.databaseUrl === undefined ? 'sqlite' : 'postgresql',
    },
    `Latchkey is listening on ${config.publicUrl}`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Latchkey failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (error instanceof Error && error.cause !== undefined)
    process.stderr.write(
      `Cause: ${error.cause instanceof Error ? error.cause.message : inspect(error.cause)}\n`,
    );
  process.exit(1);
});
