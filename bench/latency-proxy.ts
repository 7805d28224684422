/**
 * A loopback TCP proxy that holds every chunk `delayMs` in each direction: a relay further away than
 * loopback (one-way delay; a round trip costs twice it). Constant delays keep each direction's order.
 * Used by bench/outbox-drain to show what the outbox's pace does when each answer takes a while.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** A running proxy: `url` is the ws:// URL to dial instead of the relay's. */
export interface LatencyProxy {
  url: string;
  close(): Promise<void>;
}

/** Proxies 127.0.0.1:<free port> to the relay at `target` (ws://host:port). */
export async function startLatencyProxy(target: string, delayMs: number): Promise<LatencyProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
    from.on('end', () => setTimeout(() => to.end(), delayMs));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), delayMs));
  };
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
