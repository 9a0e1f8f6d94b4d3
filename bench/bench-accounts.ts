import { createAuthClient, type SignedIn } from './auth-client.ts';

/** Every benchmark account's password: long, not a common one, accepted by the server's rules. */
export const BENCH_PASSWORD = 'bench: a long and uncommon passphrase';

/** Emails of one length, so every account's status body has the same size. */
export function benchEmail(runId: string, index: number): string {
  return `b${runId}-${String(index).padStart(7, '0')}@example.com`;
}

/** Registers `count` accounts (indexes 0 … count-1) and returns their first sessions. */
export async function registerBenchAccounts(
  baseUrl: string,
  runId: string,
  count: number,
): Promise<SignedIn[]> {
  const client = createAuthClient(baseUrl);
  return Promise.all(
    Array.from({ length: count }, (_, i) => client.register(benchEmail(runId, i), BENCH_PASSWORD)),
  );
}
