/**
 * The control API over HTTP on 127.0.0.1, protected by a bearer token from the home directory
 * (mode 600), so only the owner's processes can steer the daemon. JSON in and out; runtime events
 * as server-sent events on GET /v1/events.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ControlError, type AgentAction, type ControlHandler } from './types.js';

const MAX_BODY = 64 * 1024;
const ACTIONS = new Set<AgentAction>(['pause', 'resume', 'terminate', 'recover']);

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

async function route(req: IncomingMessage, res: ServerResponse, handler: ControlHandler): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts[0] !== 'v1') throw new ControlError(`no such endpoint: ${url.pathname}`, 404);
  const [, resource, ref, action] = parts;
  if (req.method === 'GET' && resource === 'overview' && !ref) return send(res, 200, handler.overview());
  if (req.method === 'GET' && resource === 'events' && !ref) return streamEvents(req, res, handler);
  if (resource === 'agents') {
    if (req.method === 'GET' && !ref) return send(res, 200, handler.overview().agents);
    if (req.method === 'POST' && !ref) return send(res, 201, await handler.create(parseWith(CreateSchema, await readJson(req))));
    if (req.method === 'GET' && ref && !action) {
      const agent = handler.agent(decodeURIComponent(ref));
      if (!agent) throw new ControlError(`no agent named "${decodeURIComponent(ref)}"`, 404, { code: 'AGENT_NOT_FOUND' });
      return send(res, 200, agent);
    }
    if (req.method === 'GET' && ref && action === 'ticks') {
      const limit = Number(url.searchParams.get('limit') ?? '20');
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ControlError('limit must be an integer from 1 to 1000', 400);
      return send(res, 200, handler.ticks(decodeURIComponent(ref), limit));
    }
    if (req.method === 'POST' && ref && action === 'poke') {
      const { text } = parseWith(PokeSchema, await readJson(req));
      return send(res, 202, await handler.poke(decodeURIComponent(ref), text));
    }
    if (req.method === 'POST' && ref && action && ACTIONS.has(action as AgentAction)) {
      return send(res, 200, await handler.act(decodeURIComponent(ref), action as AgentAction));
    }
  }
  throw new ControlError(`no such endpoint: ${req.method} ${url.pathname}`, 404);
}

/** Starts the control server on `host:port` (port 0 = any free port). */
export function startControlServer(options: { handler: ControlHandler; token: string; host?: string; port?: number }): Promise<RunningControlServer> {
  const { handler, token } = options;
  const server: Server = createServer((req, res) => {
    if (!authorized(req, token)) return send(res, 401, { error: 'missing or wrong control token' });
    route(req, res, handler).catch((error: unknown) => {
      const status = error instanceof ControlError ? error.status : typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
      if (!res.headersSent) send(res, status, { error: error instanceof Error ? error.message : String(error) });
      else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { port, address } = server.address() as AddressInfo;
      resolve({
        url: `http://${address}:${port}`,
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
