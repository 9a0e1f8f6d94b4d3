import { freePort } from './free-port.ts';
import { type NodeChild, spawnNodeChild } from './node-child.ts';
import { waitUntilOk } from './wait-until-ok.ts';

const SCRIPT = new URL('./baseline-server.ts', import.meta.url).pathname;

export interface Baseline {
  child: NodeChild;
  baseUrl: string;
  bodyBytes: number;
  stop(): Promise<void>;
}

/** Starts the bare Fastify route (baseline-server.ts) answering a body of `bodyBytes` bytes. */
export async function startBaseline(bodyBytes: number): Promise<Baseline> {
  const port = await freePort();
  const child = spawnNodeChild(SCRIPT, {
    env: { PORT: String(port), BODY_BYTES: String(bodyBytes) },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilOk(child, `${baseUrl}/health`, { timeoutMs: 15_000, intervalMs: 20 });
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
  return {
    child,
    baseUrl,
    bodyBytes,
    async stop() {
      await child.stop('SIGTERM', 5_000);
    },
  };
}
