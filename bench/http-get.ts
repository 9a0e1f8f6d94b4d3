import { type Agent, request } from 'node:http';

export interface HttpGetOptions {
  headers?: Record<string, string>;
  agent?: Agent;
  timeoutMs: number;
}

/**
 * One GET with node:http (no fetch: undici loads lazily, which would distort the first timings).
 * Resolves with the status and body, or rejects on a connection error or after `timeoutMs`.
 */
export function httpGet(
  url: string,
  options: HttpGetOptions,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
