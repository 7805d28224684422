/**
 * MCP tools in the tool loop, over the OpenAI wire (the fake chat-completions server) and a real
 * server-everything: granted tools offered as `server__tool` with the server's schema, a call's
 * real result fed back, a call to a listed but ungranted tool refused and recorded, a server that
 * cannot start answering its granted tools with its error, and the wire-name rules.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { wireNames, entryCovers, grantsMcpTool } from '../../../src/think/mcp/names.js';
import { createMcpSession } from '../../../src/think/mcp/session.js';
import { McpServersSchema, type McpSession } from '../../../src/think/mcp/types.js';
import { OpenAiProvider } from '../../../src/think/openai.js';
import { thinkWithTools } from '../../../src/think/think-with-tools.js';
import { startFakeLlmServer, type FakeLlmServer } from '../../helpers/fake-llm-server.js';
import { EVERYTHING_STDIO } from '../../helpers/mcp-servers.js';
import { createTestContext, type TestContext } from '../test-context.js';

let server: FakeLlmServer | undefined;
let ctx: TestContext | undefined;
let session: McpSession | undefined;
afterEach(async () => {
  await server?.close();
  ctx?.close();
});
afterAll(() => session?.close());

describe('MCP tools in the tool loop', () => {
  it('offers granted tools under wire names, returns their real results, refuses ungranted ones and records both', async () => {
    session = createMcpSession(McpServersSchema.parse({ everything: EVERYTHING_STDIO, broken: { command: '/nonexistent/server' } }), { env: {} });
    server = await startFakeLlmServer({
      replies: [
        { kind: 'reply', toolCalls: [
          { id: 'c1', name: 'everything__get-sum', arguments: { a: 19, b: 23 } },
          { id: 'c2', name: 'everything__get-env', arguments: {} },
          { id: 'c3', name: 'broken__lookup', arguments: { q: 'x' } },
        ] },
        { kind: 'reply', text: 'The sum is 42.' },
      ],
    });
    ctx = createTestContext({ capabilities: { tools: ['recall', 'everything.get-sum', 'everything.echo', 'broken.lookup'] } });
    ctx.mcp = session;
    const provider = new OpenAiProvider({ baseUrl: server.baseUrl, model: 'fake-model', maxAttempts: 1 });
    const result = await thinkWithTools({ provider, request: { messages: [{ role: 'user', content: 'what is 19 + 23?' }] }, ctx });
    expect(result).toMatchObject({ text: 'The sum is 42.', stopReason: 'final', toolCalls: 3 });

    const offered = server.requests[0]!.body!.tools as Array<{ function: { name: string; description: string; parameters: Record<string, unknown> } }>;
    expect(offered.map((t) => t.function.name)).toEqual(['recall', 'everything__echo', 'everything__get-sum', 'broken__lookup']);
    const sum = offered.find((t) => t.function.name === 'everything__get-sum')!.function;
    expect(sum.description).toBe('Returns the sum of two numbers');
    expect(sum.parameters).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
    expect(offered.find((t) => t.function.name === 'broken__lookup')!.function.description).toMatch(/not available right now \(MCP server "broken" failed to start/);

    const answers = (server.requests[1]!.body!.messages as Array<{ role: string; tool_call_id?: string; content: string }>).filter((m) => m.role === 'tool');
    expect(answers.map((m) => m.tool_call_id)).toEqual(['c1', 'c2', 'c3']);
    expect(answers[0]!.content).toBe('The sum of 19 and 23 is 42.');
    expect(JSON.parse(answers[1]!.content)).toEqual({ error: 'tool "everything.get-env" is not available: it is not granted to this agent', refused: true });
    expect(JSON.parse(answers[2]!.content).error).toMatch(/^MCP server "broken" failed to start/);

    const tools = ctx.steps.filter((s) => s.type === 'tool');
    expect(tools.map((s) => s.name)).toEqual(['mcp.list', 'everything.get-sum', 'everything.get-env', 'broken.lookup']);
    expect(tools[0]!.detail).toMatchObject({ offered: 3, unavailable: [{ server: 'broken' }] });
    expect(tools[1]!.detail).toMatchObject({ ok: true, callId: 'c1', server: 'everything', arguments: '{"a":19,"b":23}', result: 'The sum of 19 and 23 is 42.' });
    expect(tools[2]!.detail).toMatchObject({ ok: false, refused: true });
    expect(tools[3]!.detail).toMatchObject({ ok: false, server: 'broken' });
  });
});

describe('MCP tool names', () => {
  it('encodes server.tool into OpenAI function names, distinct from each other and from built-ins', () => {
    const long = 'x'.repeat(80);
    const table = wireNames(
      [{ server: 'fs', tool: 'read_file' }, { server: 'fs', tool: 'dir/list.all' }, { server: 'fs', tool: 'dir_list_all' }, { server: 'gh', tool: long }, { server: 'a', tool: 'b' }],
      ['a__b'],
    );
    const names = [...table.keys()];
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(new Set(names).size).toBe(5);
    expect(names[0]).toBe('fs__read_file');
    expect(names[1]).toBe('fs__dir_list_all');
    expect(names[2]).toMatch(/^fs__dir_list_all_[0-9a-f]{6}$/);
    expect(names[3]).toHaveLength(64);
    expect(names[4]).not.toBe('a__b');
    expect(table.get(names[2]!)).toEqual({ server: 'fs', tool: 'dir_list_all' });
    expect(grantsMcpTool(['fs.*'], 'fs', 'anything')).toBe(true);
    expect(grantsMcpTool(['fs.read_file'], 'fs', 'write_file')).toBe(false);
    expect(entryCovers('fs.*', 'fs.read_file')).toBe(true);
    expect(entryCovers('fs.*', 'gh.read_file')).toBe(false);
    expect(entryCovers('http_fetch', 'http_fetch')).toBe(true);
  });
});
