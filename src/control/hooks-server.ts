/**
 * The webhook listener (`--hooks-port`, off by default): `POST /hooks/<agent>/<hook>` with a JSON
 * body up to `maxBodyBytes`, signed in `X-Signature-256`, named by `X-Delivery-Id`. It answers 202
 * only after the trigger row is committed, so an accepted delivery is never lost; 401 for a missing
 * or wrong signature, 413 for a body over the limit, 400 for bad JSON or a missing delivery id, 404
 * for an unknown hook, 409 for a replay (that delivery id, or that signed body, was accepted before),
 * 429 past the hook's rate. Every error body is `{"error", "code"}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RateLimiter, type RateLimitConfig } from '../runtime/rate-limit.js';
import type { JsonValue } from '../storage/types.js';
import { errorCode, type ErrorCode } from '../util/errors.js';
import type { WebhookOutcome } from './metrics.js';
import { signatureDigest, verifySignature } from './webhook-signature.js';

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A body past this many times the limit is cut off instead of read to the end. */
const DRAIN_FACTOR = 4;

/** What the listener needs from the daemon. */
export interface HooksHandler {
  /** The hook's secret, or undefined for an unknown agent or hook (or a terminated agent). */
  secretOf(agent: string, hook: string): Promise<string | undefined>;
  /** Commits the trigger; `replay` when that delivery (or signed body) was accepted before. */
  deliver(agent: string, input: { hook: string; deliveryId: string; signature: string; body: JsonValue }): Promise<{ outcome: 'queued' | 'replay'; inboxId?: number }>;
  /** Told how each request ended (metrics); `agent` only for a known hook. */
  observe?(agent: string | undefined, outcome: WebhookOutcome): void;
}

/** Options; defaults in brackets. */
export interface HooksServerOptions {
  handler: HooksHandler;
  /** [127.0.0.1] */
  host?: string;
  /** [0: any free port] */
  port?: number;
  /** Largest body accepted [65 536]. */
  maxBodyBytes?: number;
  /** Deliveries per hook [60 a minute]. */
  rate?: RateLimitConfig;
  /** [Date.now] */
  now?: () => number;
}

/** A running webhook listener. */
export interface RunningHooksServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A finished request: status, body, outcome for the metrics. */
interface Answer {
  status: number;
  body: Record<string, unknown>;
  outcome: WebhookOutcome;
  headers?: Record<string, string>;
}

const refuse = (status: number, code: ErrorCode, error: string, outcome: WebhookOutcome, headers?: Record<string, string>): Answer => ({ status, body: { error, code }, outcome, ...(headers ? { headers } : {}) });

/** Reads the body up to `max` bytes; undefined when it is larger (read on up to DRAIN_FACTOR × max so the answer can be sent). */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max * DRAIN_FACTOR) {
      req.destroy();
      return undefined;
    }
    if (size <= max) chunks.push(chunk as Buffer);
  }
  return size > max ? undefined : Buffer.concat(chunks);
}

async function handle(req: IncomingMessage, o: HooksServerOptions, limiter: RateLimiter): Promise<Answer & { agent?: string }> {
  const max = o.maxBodyBytes ?? 64 * 1024;
  const parts = new URL(req.url ?? '/', 'http://localhost').pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  if (parts.length !== 3 || parts[0] !== 'hooks') return refuse(404, 'WEBHOOK_NOT_FOUND', 'webhooks are POSTed to /hooks/<agent>/<hook>', 'unknown-hook');
  const [, agent, hook] = parts as [string, string, string];
  const secret = await o.handler.secretOf(agent, hook);
  if (secret === undefined) return refuse(404, 'WEBHOOK_NOT_FOUND', `no webhook "${hook}" for agent "${agent}"`, 'unknown-hook');
  if (req.method !== 'POST') return { ...refuse(405, 'WEBHOOK_BAD_REQUEST', 'webhooks are POSTed', 'bad-request', { allow: 'POST' }), agent };
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > max * DRAIN_FACTOR) {
    req.destroy();
    return { ...refuse(413, 'INPUT_TOO_LARGE', `body over ${max} bytes`, 'too-large'), agent };
  }
  const body = await readBody(req, max);
  if (body === undefined) return { ...refuse(413, 'INPUT_TOO_LARGE', `body over ${max} bytes`, 'too-large'), agent };
  const header = req.headers['x-signature-256'];
  if (!verifySignature(secret, body, typeof header === 'string' ? header : undefined)) {
    return { ...refuse(401, 'WEBHOOK_BAD_SIGNATURE', 'missing or wrong X-Signature-256 (sha256=<hex HMAC-SHA256 of the body>)', 'bad-signature'), agent };
  }
  const deliveryId = req.headers['x-delivery-id'];
  if (typeof deliveryId !== 'string' || !DELIVERY_ID.test(deliveryId)) {
    return { ...refuse(400, 'WEBHOOK_BAD_REQUEST', 'X-Delivery-Id is required: 1 to 128 letters, digits, ".", "_", ":" or "-"', 'bad-request'), agent };
  }
  let json: JsonValue;
  try {
    json = JSON.parse(body.toString('utf8')) as JsonValue;
  } catch {
    return { ...refuse(400, 'WEBHOOK_BAD_REQUEST', 'the body is not valid JSON', 'bad-json'), agent };
  }
  const rate = o.rate ?? { capacity: 60, windowMs: 60_000 };
  const verdict = limiter.take(`${agent}/${hook}`, rate, (o.now ?? Date.now)());
  if (!verdict.allowed) {
    const retry = String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
    return { ...refuse(429, 'WEBHOOK_RATE_LIMITED', `too many deliveries for this hook; retry in ${retry} s`, 'rate-limited', { 'retry-after': retry }), agent };
  }
  const signature = signatureDigest(header as string) as string;
  const result = await o.handler.deliver(agent, { hook, deliveryId, signature, body: json });
  if (result.outcome === 'replay') return { ...refuse(409, 'WEBHOOK_REPLAY', `delivery "${deliveryId}" was already accepted (or this signed body was)`, 'replay'), agent };
  return { status: 202, body: { accepted: true, ...(result.inboxId !== undefined ? { inboxId: result.inboxId } : {}) }, outcome: 'accepted', agent };
}

function send(res: ServerResponse, a: Answer): void {
  const text = JSON.stringify(a.body);
  res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...a.headers });
  res.end(text);
}

/** Starts the webhook listener. */
export function startHooksServer(o: HooksServerOptions): Promise<RunningHooksServer> {
  const limiter = new RateLimiter({ maxKeys: 10_000 });
  const server = createServer((req, res) => {
    handle(req, o, limiter)
      .then((answer) => {
        o.handler.observe?.(answer.agent, answer.outcome);
        if (!res.destroyed) send(res, answer);
      })
      .catch((error: unknown) => {
        const code = errorCode(error);
        const notFound = code === 'WEBHOOK_NOT_FOUND' || code === 'AGENT_NOT_FOUND';
        o.handler.observe?.(undefined, notFound ? 'unknown-hook' : 'error');
        if (!res.headersSent && !res.destroyed) send(res, notFound ? refuse(404, 'WEBHOOK_NOT_FOUND', (error as Error).message, 'unknown-hook') : refuse(500, code, 'the delivery could not be recorded; retry', 'error'));
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
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
