import { formatMs } from '../format-figures.ts';
import { median } from '../median.ts';
import type { Scenario } from '../scenario.ts';
import { startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

const RUNS = 5;

/**
 * Target 5a: from spawn to the first 200 on /health, on an empty data directory each time (the
 * slowest start: the database file, its migrations and the first signing key are all created).
 * /health is polled every 5 ms.
 */
export const coldStart: Scenario = {
  id: 'cold-start',
  title: 'Cold start to the first 200 on /health',
  async run(context) {
    const { settings } = context;
    const times: number[] = [];
    let peakRssBytes = 0;
    for (let i = 0; i < RUNS; i += 1) {
      const server = await startServer({
        dataDir: context.newDataDir(),
        hashConcurrency: settings.hashConcurrency,
        pollIntervalMs: 5,
      });
      try {
        times.push(server.startMs);
        peakRssBytes = Math.max(peakRssBytes, server.child.peakRssBytes());
      } finally {
        await server.stop();
      }
    }
    const middle = median(times);
    context.log(`starts: ${times.map((t) => formatMs(t)).join(', ')}`);
    return {
      measurements: [],
      checks: [
        checkTarget({
          label: `cold start to the first 200 on /health (median of ${RUNS})`,
          value: middle,
          unit: 'ms',
          comparison: 'at most',
          limit: 1000,
          detail: `runs: ${times.map((t) => formatMs(t)).join(', ')}`,
        }),
      ],
      memory: [{ label: 'idle after start (cold-start runs)', peakRssBytes }],
      notes: [],
    };
  },
};
