/**
 * A TCP proxy on 127.0.0.1 that can stop forwarding without closing anything: what a server sees
 * when its database host freezes or a network link starts dropping packets. Nothing is lost:
 * bytes held while frozen are delivered, in order, on thaw.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface FreezableProxy {
  port: number;
  /** From now on nothing is forwarded either way; new connections are accepted and get no answer. */
  freeze(): void;
  /** Delivers everything held back and forwards again. */
  thaw(): void;
  close(): Promise<void>;
}

export async function createFreezableProxy(targetPort: number): Promise<FreezableProxy> {
  let frozen = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (frozen) held.push(() => to.write(chunk));
        else to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('close', end);
      socket.on('error', end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');

  return {
    port: address.port,
    freeze: () => void (frozen = true),
    thaw() {
      frozen = false;
      for (const deliver of held.splice(0)) deliver();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
