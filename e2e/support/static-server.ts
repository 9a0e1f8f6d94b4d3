/**
 * A tiny static server for the built web app on a second origin: files from the build, history
 * fallback to index.html, and a `/latchkey.json` that points the app at another API origin.
 * Listens on 127.0.0.1 only.
 */
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `root` on 127.0.0.1:`port`, with `/latchkey.json` answering `{ apiUrl }`. */
export async function startStaticServer(
  root: string,
  port: number,
  apiUrl: string,
): Promise<StaticServer> {
  const settings = JSON.stringify({ apiUrl });
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405).end();
        return;
      }
      if (path === '/latchkey.json') {
        response.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-cache' });
        response.end(settings);
        return;
      }
      const file = normalize(join(root, path));
      const inside = file.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
      try {
        if (!inside || path.endsWith('/')) throw new Error('not a file');
        const body = await readFile(file);
        response.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        });
        response.end(body);
      } catch {
        // History routing: any other path is the app.
        const index = await readFile(join(root, 'index.html'));
        response.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-cache' });
        response.end(index);
      }
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
