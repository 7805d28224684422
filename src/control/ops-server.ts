/**
 * The operations endpoints: `GET /healthz`, `GET /readyz` and `GET /metrics` (Prometheus text).
 * The control API serves them behind its token; `--metrics-port` puts them on a listener of their
 * own without a token (for a Prometheus scraper or an orchestrator's probes), serving nothing else.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthReport, ReadinessReport } from './health.js';

/** What the daemon provides the operations endpoints. */
export interface OpsHandler {
  health(): HealthReport;
  readiness(): Promise<ReadinessReport>;
  /** The metrics in the Prometheus text format, with its content type. */
  metrics(): Promise<{ contentType: string; text: string }>;
}

/** A running listener. */
export interface RunningOpsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Answers an operations path; false when `req` is not one of them (the caller routes on). */
export async function serveOps(req: IncomingMessage, res: ServerResponse, ops: OpsHandler): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return true;
  }
  if (path === '/healthz') json(res, 200, ops.health());
  else if (path === '/readyz') {
    const report = await ops.readiness();
    json(res, report.ready ? 200 : 503, report);
  } else {
    const { contentType, text } = await ops.metrics();
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  }
  return true;
}

/** Listens on `host:port` (port 0: any free one) serving only the operations endpoints, without a token. */
export function startOpsServer(options: { ops: OpsHandler; host?: string; port?: number }): Promise<RunningOpsServer> {
  const server = createServer((req, res) => {
    serveOps(req, res, options.ops)
      .then((served) => {
        if (!served) json(res, 404, { error: 'this listener serves /healthz, /readyz and /metrics only', code: 'CONTROL_NOT_FOUND' });
      })
      .catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { error: error instanceof Error ? error.message : String(error), code: 'INTERNAL' });
        else res.end();
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const { port, address } = server.address() as AddressInfo;
      resolve({
        url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
