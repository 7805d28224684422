/**
 * MCP sessions against real servers: @modelcontextprotocol/server-everything as a stdio child
 * process and the same package hosted over Streamable HTTP on 127.0.0.1. Listing, calling, the
 * failures (no such command, a process that never speaks MCP, a crash mid-call, a call that runs
 * past its timeout, the tick's abort), list_changed refreshing the cache, and no process left over.
 */
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processTree, isAlive } from '../../../src/think/mcp/reap.js';
import { createMcpSession } from '../../../src/think/mcp/session.js';
import { McpServersSchema, type McpSession } from '../../../src/think/mcp/types.js';
import { EVERYTHING_STDIO, startEverythingHttp, type EverythingHttp } from '../../helpers/mcp-servers.js';

const sessions: McpSession[] = [];
let http: EverythingHttp | undefined;
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});
afterAll(async () => {
  await http?.close();
});

function open(servers: Record<string, unknown>, env: Record<string, string | undefined> = {}): McpSession {
  const session = createMcpSession(McpServersSchema.parse(servers), { env });
  sessions.push(session);
  return session;
}

/** This worker's child processes (the servers a session spawned are direct children). */
const children = (): number[] => processTree(process.pid).slice(1);

describe('MCP over stdio (server-everything)', () => {
  // One session for the stdio cases (each server start costs about a second): a plain server with an
  // explicit environment, and the same package with a short call timeout.
  let session: McpSession;
  let before: number[];
  beforeAll(() => {
    before = children();
    session = createMcpSession(
      McpServersSchema.parse({
        everything: { ...EVERYTHING_STDIO, env: { GIVEN: 'by-value' }, passEnv: ['PASS_ME'] },
        quick: { ...EVERYTHING_STDIO, callTimeoutMs: 300 },
      }),
      { env: { PASS_ME: 'copied', NOT_ME: 'stays-home', AGENT_LLM_API_KEY: 'sk-never-passed' } },
    );
  });
  afterAll(() => session.close());

  it('lists each server\'s tools with their JSON schemas', async () => {
    const listing = await session.list();
    expect(listing.unavailable).toEqual([]);
    const sum = listing.tools.find((t) => t.server === 'everything' && t.tool === 'get-sum');
    expect(sum).toMatchObject({ description: 'Returns the sum of two numbers' });
    expect(sum!.inputSchema).toMatchObject({ type: 'object', required: ['a', 'b'] });
    expect(sum!.inputSchema).not.toHaveProperty('$schema');
    expect(listing.tools.filter((t) => t.tool === 'echo').map((t) => t.server).sort()).toEqual(['everything', 'quick']);
  });

  it('calls a tool, and the server sees only the explicit environment', async () => {
    expect(await session.call('everything', 'get-sum', { a: 2, b: 40 })).toEqual({ ok: true, content: 'The sum of 2 and 40 is 42.' });
    const env = JSON.parse((await session.call('everything', 'get-env', {})).content) as Record<string, string>;
    expect(env.GIVEN).toBe('by-value');
    expect(env.PASS_ME).toBe('copied');
    expect(env).not.toHaveProperty('NOT_ME');
    expect(env).not.toHaveProperty('AGENT_LLM_API_KEY');
    expect(Object.keys(env).filter((k) => k.startsWith('AGENT_') || k.startsWith('VITEST'))).toEqual([]);
  });

  it('bad arguments, an unknown tool or an unknown server are error results; the config schema is strict', async () => {
    const bad = await session.call('everything', 'get-sum', { a: 'two' });
    expect(bad.ok).toBe(false);
    expect(bad.content).toMatch(/error/i);
    const none = await session.call('everything', 'no-such-tool', {});
    expect(none).toMatchObject({ ok: false });
    expect(none.error).toMatch(/no-such-tool/);
    expect(await session.call('elsewhere', 'x', {})).toMatchObject({ ok: false, error: 'there is no MCP server "elsewhere"' });
    expect(McpServersSchema.safeParse({ Bad_Name: EVERYTHING_STDIO }).success).toBe(false);
    expect(McpServersSchema.safeParse({ s: { ...EVERYTHING_STDIO, passEnv: ['AGENT_MNEMONIC'] } }).success).toBe(false);
    expect(McpServersSchema.safeParse({ s: { ...EVERYTHING_STDIO, extra: 1 } }).success).toBe(false);
  });

  it('a call past its timeout is an error result; the tick\'s abort rejects instead', async () => {
    const slow = await session.call('quick', 'trigger-long-running-operation', { duration: 5, steps: 5 });
    expect(slow).toMatchObject({ ok: false, error: 'MCP server "quick" did not answer calling trigger-long-running-operation within 300 ms' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('tick deadline')), 100);
    await expect(session.call('everything', 'trigger-long-running-operation', { duration: 0.25, steps: 1 }, { signal: abort.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(await session.call('quick', 'echo', { message: 'still here' })).toMatchObject({ ok: true });
  });

  it('a crash mid-call is an error result, and the next call starts the server again', async () => {
    const pid = session.pids()[0]!;
    const pending = session.call('everything', 'trigger-long-running-operation', { duration: 20, steps: 20 });
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, 'SIGKILL');
    const crashed = await pending;
    expect(crashed.ok).toBe(false);
    expect(crashed.error).toMatch(/^MCP server "everything" stopped while calling trigger-long-running-operation/);
    expect(await session.call('everything', 'echo', { message: 'again' })).toEqual({ ok: true, content: 'Echo: again' });
    expect(session.pids()).not.toContain(pid);
    expect(session.pids()).toHaveLength(2);
  });

  it('closing reaps every server process', async () => {
    const pids = session.pids();
    expect(pids.every(isAlive)).toBe(true);
    await session.close();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(children()).toEqual(before);
  });

  it('a server that fails to start or never answers is reported, its calls get error results, and nothing is left running', async () => {
    const failing = open({
      missing: { command: '/nonexistent/mcp-server-binary' },
      silent: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], startTimeoutMs: 500 },
    });
    const listing = await failing.list();
    expect(listing.tools).toEqual([]);
    const why = Object.fromEntries(listing.unavailable.map((u) => [u.server, u.error]));
    expect(why.missing).toMatch(/^MCP server "missing" failed to start: .*ENOENT/);
    expect(why.silent).toBe('MCP server "silent" did not start within 500 ms');
    // Not retried on every call: the remembered failure answers until the backoff passes.
    const call = await failing.call('silent', 'anything', {});
    expect(call).toEqual({ ok: false, content: JSON.stringify({ error: why.silent }), error: why.silent });
    expect(children()).toEqual(before);
  });
});

describe('MCP over Streamable HTTP (server-everything hosted on 127.0.0.1)', () => {
  it('lists and calls over HTTP, refreshes the cached list on list_changed, and ends the session on close', async () => {
    http = await startEverythingHttp();
    const session = open({ web: { url: http.url } });
    const first = await session.list();
    expect(first.tools.map((t) => t.tool)).toContain('echo');
    expect(first.tools.map((t) => t.tool)).not.toContain('late-tool');
    expect(await session.call('web', 'echo', { message: 'over http' })).toEqual({ ok: true, content: 'Echo: over http' });

    // Cached: listing again asks nothing new; a tool added on the server sends list_changed.
    http.server().registerTool('late-tool', { description: 'Added after the first listing', inputSchema: { n: z.number() } }, async ({ n }) => ({ content: [{ type: 'text', text: `late ${n}` }] }));
    await expect.poll(async () => (await session.list()).tools.map((t) => t.tool), { timeout: 5000 }).toContain('late-tool');
    expect(await session.call('web', 'late-tool', { n: 7 })).toEqual({ ok: true, content: 'late 7' });
    expect(http.sessions()).toBe(1);
    await session.close();
    await expect.poll(() => http!.sessions(), { timeout: 5000 }).toBe(0);
  });
});
