/**
 * The control API over HTTP on 127.0.0.1, protected by a bearer token from the home directory
 * (mode 600), so only the owner's processes can steer the daemon. JSON in and out; runtime events
 * as server-sent events on GET /v1/events. A request must name this server in its Host header (the
 * loopback address and port it listens on): a web page that rebinds its own name to 127.0.0.1 (DNS
 * rebinding) sends its own name there, and is refused before the token is even looked at.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { serveOps, type OpsHandler } from './ops-server.js';
import { ACTIONS, matchRoute, type Route } from './routes.js';
import { routeTriggers, type TriggerAdmin } from './trigger-routes.js';
import { errorCode } from '../util/errors.js';
import { ControlError, type ControlHandler } from './types.js';

const MAX_BODY = 64 * 1024;

const CreateSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/i, 'letters, digits, - and _, up to 32, starting with a letter or digit'),
    behavior: z.string().min(1),
    relays: z.array(z.string()).optional(),
    dmPolicy: z.string().optional(),
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
const PokeSchema = z.object({ text: z.string().min(1).max(65_535) }).strict();

/** A running control server. */
export interface RunningControlServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ControlError(`request body over ${MAX_BODY} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : {};
  } catch (cause) {
    throw new ControlError('request body is not valid JSON', 400, { cause });
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ControlError(result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 400);
  }
  return result.data;
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The Host a request for this server carries (`127.0.0.1:port`, `[::1]:port`). */
function hostOf(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

/** Whether the request names this server: its Host header, and its Origin when a browser sent one. */
function forUs(req: IncomingMessage, host: string): boolean {
  if (req.headers.host !== host) return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${host}`;
}

function streamEvents(req: IncomingMessage, res: ServerResponse, handler: ControlHandler): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(': connected\n\n');
  const unsubscribe = handler.subscribe((event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
  const keepAlive = setInterval(() => res.write(': ping\n\n'), 15_000);
  const stop = (): void => {
    clearInterval(keepAlive);
    unsubscribe();
  };
  req.on('close', stop);
  res.on('error', stop);
}

const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/v1/overview', run: async ({ res, handler }) => send(res, 200, await handler.overview()) },
  { method: 'GET', path: '/v1/events', run: ({ req, res, handler }) => streamEvents(req, res, handler) },
  { method: 'GET', path: '/v1/agents', run: async ({ res, handler }) => send(res, 200, (await handler.overview()).agents) },
  { method: 'POST', path: '/v1/agents', run: async ({ req, res, handler }) => send(res, 201, await handler.create(parseWith(CreateSchema, await readJson(req)))) },
  {
    method: 'GET',
    path: '/v1/agents/:ref',
    run: async ({ res, ref, handler }) => {
      const agent = await handler.agent(ref);
      if (!agent) throw new ControlError(`no agent named "${ref}"`, 404, { code: 'AGENT_NOT_FOUND' });
      send(res, 200, agent);
    },
  },
  {
    method: 'GET',
    path: '/v1/agents/:ref/ticks',
    run: async ({ res, url, ref, handler }) => {
      const limit = Number(url.searchParams.get('limit') ?? '20');
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ControlError('limit must be an integer from 1 to 1000', 400);
      send(res, 200, await handler.ticks(ref, limit));
    },
  },
  {
    method: 'POST',
    path: '/v1/agents/:ref/poke',
    run: async ({ req, res, ref, handler }) => {
      const { text } = parseWith(PokeSchema, await readJson(req));
      send(res, 202, await handler.poke(ref, text));
    },
  },
  ...ACTIONS.map((action): Route => ({ method: 'POST', path: `/v1/agents/:ref/${action}`, run: async ({ res, ref, handler }) => send(res, 200, await handler.act(ref, action)) })),
];

async function route(req: IncomingMessage, res: ServerResponse, handler: ControlHandler, triggers?: TriggerAdmin): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // An agent's watches and hooks (trigger-routes.ts): exact segments as well, with DELETE and a second name.
  if (triggers && (await routeTriggers(req.method ?? 'GET', url.pathname.split('/').slice(1), () => readJson(req), (status, body) => send(res, status, body), triggers))) return;
  const found = matchRoute(ROUTES, req.method, url.pathname);
  if (!found) throw new ControlError(`no such endpoint: ${req.method} ${url.pathname}`, 404);
  await found.route.run({ req, res, url, ref: found.ref, handler });
}

/** The HTTP status of an error: its own, else one for its code's kind (not found, conflict, bad input), else 500. */
export function httpStatusOf(error: unknown): number {
  if (error instanceof ControlError) return error.status;
  const own = (error as { status?: unknown } | null)?.status;
  if (typeof own === 'number' && own >= 400 && own < 600) return own;
  const code = errorCode(error);
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code === 'AGENT_STATE' || code.endsWith('_CONFLICT') || code.endsWith('_EXISTS')) return 409;
  if (code === 'USAGE' || code.endsWith('_INVALID') || code.endsWith('_BAD_REQUEST') || code === 'UNKNOWN_BEHAVIOR') return 400;
  if (code === 'INPUT_TOO_LARGE') return 413;
  return 500;
}

/**
 * Starts the control server on `host:port` (port 0 = any free port). With `ops`, it also serves
 * /healthz, /readyz and /metrics, behind the same token as everything else.
 */
export function startControlServer(options: { handler: ControlHandler; token: string; host?: string; port?: number; ops?: OpsHandler; triggers?: TriggerAdmin }): Promise<RunningControlServer> {
  const { handler, token, ops, triggers } = options;
  let host = '';
  const server: Server = createServer((req, res) => {
    if (!forUs(req, host)) return send(res, 403, { error: `this is the control API of ${host}: requests for another host are refused`, code: 'CONTROL_FORBIDDEN' });
    if (!authorized(req, token)) return send(res, 401, { error: 'missing or wrong control token', code: 'CONTROL_UNAUTHORIZED' });
    const served = ops ? serveOps(req, res, ops) : Promise.resolve(false);
    served.then((done) => (done ? undefined : route(req, res, handler, triggers))).catch((error: unknown) => {
      if (!res.headersSent) send(res, httpStatusOf(error), { error: error instanceof Error ? error.message : String(error), code: errorCode(error) });
      else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      host = hostOf(address);
      resolve({
        url: `http://${host}`,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
