import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isHostAllowed } from '../../src/think/tools/allow.js';
import { createHttpFetchTool } from '../../src/think/tools/http-fetch.js';
import { ToolRegistry } from '../../src/think/tools/registry.js';
import type { ToolOutcome } from '../../src/think/tools/types.js';
import { createTestContext, type TestContext } from './test-context.js';

// A real HTTP server on 127.0.0.1. "localhost" reaches the same socket under a different host name,
// which makes it a convenient host that is NOT on the allowlist.
let server: Server;
let port: number;
const hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      switch (req.url) {
        case '/hello':
          return res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from the allowlisted host');
        case '/big':
          return res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(300 * 1024));
        case '/echo':
          return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body }));
        case '/to-hello':
          return res.writeHead(302, { location: '/hello' }).end();
        case '/post-303':
          return res.writeHead(303, { location: '/echo' }).end();
        case '/post-307':
          return res.writeHead(307, { location: '/echo' }).end();
        case '/to-elsewhere':
          return res.writeHead(301, { location: `http://localhost:${port}/hello` }).end();
        case '/loop':
          return res.writeHead(302, { location: '/loop' }).end();
        case '/slow':
          return void setTimeout(() => res.writeHead(200).end('late'), 10_000).unref();
        case '/missing':
          return res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
        default:
          return res.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let ctx: TestContext | undefined;
afterEach(() => {
  ctx?.close();
  ctx = undefined;
});

async function fetchWith(args: Record<string, unknown>, httpAllow: string[], tool = createHttpFetchTool()): Promise<ToolOutcome> {
  ctx?.close();
  ctx = createTestContext({ capabilities: { tools: ['http_fetch'], httpAllow } });
  const dispatcher = new ToolRegistry([tool]).dispatcher(ctx);
  return dispatcher.call({ id: 'c', name: 'http_fetch', arguments: JSON.stringify(args) });
}

describe('http_fetch', () => {
  it('GETs from an allowlisted host', async () => {
    const out = await fetchWith({ url: `http://127.0.0.1:${port}/hello` }, ['127.0.0.1']);
    expect(out.ok).toBe(true);
    expect(JSON.parse(out.content)).toEqual({ status: 200, url: `http://127.0.0.1:${port}/hello`, content_type: 'text/plain', body: 'hello from the allowlisted host' });
  });

  it('refuses a host that is not on the allowlist, without connecting', async () => {
    const before = hits.length;
    const out = await fetchWith({ url: `http://localhost:${port}/hello` }, ['127.0.0.1']);
    expect(out).toMatchObject({ ok: false, refused: true, error: `fetching localhost:${port} is not allowed: the host is not on the agent's http allowlist` });
    expect(hits.length).toBe(before);
    expect((await fetchWith({ url: `http://127.0.0.1:${port}/hello` }, [])).refused).toBe(true);
  });

  it('follows a redirect within the allowlist and refuses one that leaves it', async () => {
    const ok = await fetchWith({ url: `http://127.0.0.1:${port}/to-hello` }, ['127.0.0.1']);
    expect(JSON.parse(ok.content)).toMatchObject({ status: 200, url: `http://127.0.0.1:${port}/hello` });
    const before = hits.length;
    const bad = await fetchWith({ url: `http://127.0.0.1:${port}/to-elsewhere` }, ['127.0.0.1']);
    expect(bad).toMatchObject({ ok: false, refused: true, error: expect.stringContaining(`redirect to localhost:${port} is not allowed`) });
    expect(hits.slice(before)).toEqual(['GET /to-elsewhere']);
    const loop = await fetchWith({ url: `http://127.0.0.1:${port}/loop` }, ['127.0.0.1']);
    expect(loop).toMatchObject({ ok: false, error: 'too many redirects (more than 5)' });
  });

  it('POSTs a body; 303 turns into GET, 307 keeps the method and body', async () => {
    const post = await fetchWith({ url: `http://127.0.0.1:${port}/echo`, method: 'POST', body: '{"a":1}', content_type: 'application/json' }, ['127.0.0.1']);
    expect(JSON.parse(JSON.parse(post.content).body)).toEqual({ method: 'POST', type: 'application/json', body: '{"a":1}' });
    const see = await fetchWith({ url: `http://127.0.0.1:${port}/post-303`, method: 'POST', body: 'x' }, ['127.0.0.1']);
    expect(JSON.parse(JSON.parse(see.content).body)).toMatchObject({ method: 'GET', body: '' });
    const keep = await fetchWith({ url: `http://127.0.0.1:${port}/post-307`, method: 'POST', body: 'y' }, ['127.0.0.1']);
    expect(JSON.parse(JSON.parse(keep.content).body)).toMatchObject({ method: 'POST', body: 'y' });
  });

  it('truncates a body over the size limit, with a note', async () => {
    const out = JSON.parse((await fetchWith({ url: `http://127.0.0.1:${port}/big` }, ['127.0.0.1'])).content);
    expect(out.truncated).toBe(true);
    expect(out.body.startsWith('x'.repeat(256 * 1024))).toBe(true);
    expect(out.body).toMatch(/\n\[truncated: the body was larger than 262144 bytes\]$/);
    expect(out.body.length).toBe(256 * 1024 + '\n[truncated: the body was larger than 262144 bytes]'.length);
  });

  it('gives up at the time limit, and reports HTTP errors as results', async () => {
    const slow = await fetchWith({ url: `http://127.0.0.1:${port}/slow` }, ['127.0.0.1'], createHttpFetchTool({ timeoutMs: 300 }));
    expect(slow).toMatchObject({ ok: false, error: `http_fetch of http://127.0.0.1:${port}/slow timed out after 300 ms` });
    const missing = await fetchWith({ url: `http://127.0.0.1:${port}/missing` }, ['127.0.0.1']);
    expect(JSON.parse(missing.content)).toMatchObject({ status: 404, body: 'not here' });
  });

  it('rejects bad URLs and schemes with a clear message', async () => {
    expect((await fetchWith({ url: 'not a url' }, ['127.0.0.1'])).error).toBe('not a valid URL: "not a url"');
    expect((await fetchWith({ url: 'file:///etc/passwd' }, ['127.0.0.1'])).error).toBe('only http and https URLs can be fetched, not file:');
    expect((await fetchWith({ url: `http://u:p@127.0.0.1:${port}/hello` }, ['127.0.0.1'])).error).toBe('URLs with credentials are not allowed');
    expect((await fetchWith({ url: `http://127.0.0.1:${port}/hello`, method: 'DELETE' }, ['127.0.0.1'])).error).toMatch(/^invalid arguments for http_fetch: .*method/);
  });
});

describe('isHostAllowed', () => {
  const allowed = (url: string, list: string[]): boolean => isHostAllowed(new URL(url), list);
  it('matches exact hosts, *.wildcards (not the apex), and ports when given', () => {
    expect(allowed('https://example.org/x', ['example.org'])).toBe(true);
    expect(allowed('https://EXAMPLE.org./x', ['example.org'])).toBe(true);
    expect(allowed('https://api.example.org/x', ['example.org'])).toBe(false);
    expect(allowed('https://api.example.org/x', ['*.example.org'])).toBe(true);
    expect(allowed('https://a.b.example.org/x', ['*.example.org'])).toBe(true);
    expect(allowed('https://example.org/x', ['*.example.org'])).toBe(false);
    expect(allowed('https://badexample.org/x', ['*.example.org'])).toBe(false);
    expect(allowed('https://example.org.evil.com/x', ['example.org', '*.example.org'])).toBe(false);
    expect(allowed('http://127.0.0.1:8080/', ['127.0.0.1:8080'])).toBe(true);
    expect(allowed('http://127.0.0.1:9090/', ['127.0.0.1:8080'])).toBe(false);
    expect(allowed('https://example.org/', ['example.org:443'])).toBe(true);
    expect(allowed('http://[::1]:8080/', ['[::1]'])).toBe(true);
    expect(allowed('https://example.org/', [])).toBe(false);
  });
});
