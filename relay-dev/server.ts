/**
 * The network side: one HTTP server on one port, answering NIP-11 over plain HTTP and upgrading
 * WebSocket requests to relay connections. Closing drains the ingest pipeline before the sockets go.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Connection } from './connection.js';
import { handleHttp } from './nip11.js';
import { challengesOnConnect, type Relay } from './relay.js';

/** A listening relay server. */
export interface RelayServer {
  port: number;
  /** Stops reading, answers what was received, closes every socket with `reason`, stops listening. */
  close(reason: string): Promise<void>;
}

/** Starts listening on host:port (0 picks a free port). */
export async function listen(relay: Relay, host: string, port: number): Promise<RelayServer> {
  const server: Server = createServer((req, res) => handleHttp(relay, req, res));
  const wss = new WebSocketServer({
    noServer: true,
    // Never compress: Connection.flushHeld writes batches of frames to the socket itself.
    perMessageDeflate: false,
    // Frames up to 4× the advertised limit are read and refused politely; beyond that ws closes with 1009.
    maxPayload: Math.max(relay.limits.maxMessageBytes * 4, 1024 * 1024),
  });
  const sockets = new Map<WebSocket, Connection>();

  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new Connection(ws, req.socket.remoteAddress ?? '', req.headers.host ?? '', socket, relay.answers);
      sockets.set(ws, conn);
      relay.connections.add(conn);
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        // NIP-01 speaks JSON text frames only: a binary frame is refused, never decoded as if it were text.
        if (isBinary) return relay.notice(conn, 'invalid: binary frames are not supported; send NIP-01 messages as text frames');
        // ws hands over Buffers (binaryType 'nodebuffer'): decode in place, never copy.
        const text = Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.isBuffer(data)
            ? data.toString('utf8')
            : Buffer.from(data).toString('utf8');
        relay.handleMessage(conn, text);
      });
      ws.on('close', () => {
        sockets.delete(ws);
        relay.connections.delete(conn);
      });
      ws.on('error', (error) => relay.logger.log({ level: 'debug', ns: 'relay', msg: 'socket error', conn: conn.id, error: error.message }));
      conn.challengeOnDemand = relay.authMode === 'on-demand';
      if (challengesOnConnect(relay.authMode)) conn.sendChallenge();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    async close(reason) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const ws of sockets.keys()) ws.pause();
      await relay.drain();
      relay.closing = true; // from here frames are refused, and reading resumes so close handshakes complete
      for (const ws of sockets.keys()) ws.resume();
      const gone = [...sockets.keys()].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const timer = setTimeout(() => {
              ws.terminate();
              resolve();
            }, 2000);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            ws.close(1001, reason);
          }),
      );
      await Promise.all(gone);
      wss.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
