/**
 * A local HTTP server speaking OpenAI chat completions (POST /v1/chat/completions) on 127.0.0.1,
 * port 0: the one allowed stand-in for an LLM. Replies are scripted in order (or by a handler):
 * completions with text and tool calls, any status with headers (429 + Retry-After, 500), raw
 * bodies (malformed JSON), and slow replies. Every request is kept for assertions.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted reply. */
export type FakeReply =
  | {
      kind: 'reply';
      text?: string | null;
      toolCalls?: Array<{ id?: string; name: string; arguments: unknown }>;
      /** `null` omits the usage block (as some local servers do). */
      usage?: { prompt_tokens: number; completion_tokens: number } | null;
    }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'raw'; status?: number; contentType?: string; body: string }
  | { kind: 'slow'; delayMs: number; then: FakeReply };

/** A request the server received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it was not JSON). */
  body: Record<string, unknown> | undefined;
  rawBody: string;
}

/** The running server. `baseUrl` ends in /v1, ready for OpenAiProvider. */
export interface FakeLlmServer {
  baseUrl: string;
  requests: ReceivedRequest[];
  enqueue(...replies: FakeReply[]): void;
  /** Resolves once `n` requests have arrived (polls with a deadline). */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the server; replies are served in order, then `handler` (if any), then a 500 saying the script ran out. */
export async function startFakeLlmServer(options: { replies?: FakeReply[]; handler?: (req: ReceivedRequest) => FakeReply } = {}): Promise<FakeLlmServer> {
  const queue: FakeReply[] = [...(options.replies ?? [])];
  const requests: ReceivedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let counter = 0;

  const send = (res: ServerResponse, reply: FakeReply): void => {
    if (res.destroyed) return;
    switch (reply.kind) {
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(res, reply.then);
        }, reply.delayMs);
        timers.add(timer);
        return;
      }
      case 'raw':
        res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' }).end(reply.body);
        return;
      case 'status': {
        const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(body);
        return;
      }
      case 'reply': {
        counter++;
        const message: Record<string, unknown> = { role: 'assistant', content: reply.text ?? null };
        if (reply.toolCalls?.length) {
          message.tool_calls = reply.toolCalls.map((c, i) => ({
            id: c.id ?? `call_${counter}_${i}`,
            type: 'function',
            function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) },
          }));
        }
        const completion: Record<string, unknown> = {
          id: `chatcmpl-${counter}`, object: 'chat.completion', created: 1_700_000_000, model: 'fake-model',
          choices: [{ index: 0, message, finish_reason: reply.toolCalls?.length ? 'tool_calls' : 'stop' }],
        };
        if (reply.usage !== null) completion.usage = reply.usage ?? { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion));
        return;
      }
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      const received: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, rawBody };
      requests.push(received);
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        send(res, { kind: 'status', status: 404, body: { error: { message: `no route ${req.method} ${req.url}` } } });
        return;
      }
      const reply = queue.shift() ?? options.handler?.(received) ?? { kind: 'status', status: 500, body: { error: { message: 'fake server: script ran out' } } };
      send(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    async waitForRequests(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > deadline) throw new Error(`fake LLM server: expected ${n} requests, got ${requests.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
