/**
 * Autonomy and owner approvals through the real runtime (SQLite, manual clock, the fake
 * chat-completions server as the model): a call that needs approval suspends the loop and DMs the
 * owner a code; `/approve` runs exactly that call once, `/deny` and the timeout tell the model it
 * was not run; a second answer, an unknown code and a stranger's `/approve` change nothing.
 */
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import { answerWithLlm } from '../../src/behaviors/llm.js';
import { defineTool } from '../../src/think/tools/define.js';
import { AutonomySchema } from '../../src/runtime/agent-config.js';
import { APPROVAL_PREFIX, parseApprovalCommand } from '../../src/runtime/approvals.js';
import { decideApproval } from '../../src/runtime/autonomy.js';
import type { Runtime } from '../../src/runtime/engine.js';
import type { AgentRecord } from '../../src/storage/types.js';
import { OpenAiProvider } from '../../src/think/openai.js';
import { startFakeLlmServer, type FakeLlmServer, type FakeReply, type ReceivedRequest } from '../helpers/fake-llm-server.js';
import { RuntimeFixture, inbound, owner, stranger, waitFor } from './helpers.js';

type Msg = { role: string; content: string | null };

/** "post X" → publish_note X; a tool result → "result: …". */
function model(req: ReceivedRequest): FakeReply {
  const last = (req.body!.messages as Msg[]).at(-1)!;
  if (last.role === 'tool') return { kind: 'reply', text: `result: ${last.content}` };
  const m = /post (.+)/.exec(last.content ?? '');
  if (m) return { kind: 'reply', text: 'I will post it.', toolCalls: [{ name: 'publish_note', arguments: { text: m[1] } }] };
  return { kind: 'reply', text: 'ok' };
}

const autonomy = (input: Record<string, unknown>) => AutonomySchema.parse(input);

describe('autonomy: which calls ask', () => {
  it('supervised asks for every external call, bounded past its allowance, autonomous never; per-tool modes override', () => {
    const none = { actions: 0, sats: 0 };
    const ext = { tool: 'http_fetch', external: true, sats: 0 };
    const internal = { tool: 'remember', external: false, sats: 0 };
    expect(decideApproval(autonomy({ level: 'supervised' }), ext, none)).toEqual({ ok: false, reason: 'supervised: every external action needs your approval' });
    expect(decideApproval(autonomy({ level: 'supervised', approval: { http_fetch: 'never' } }), ext, none).ok).toBe(false);
    expect(decideApproval(autonomy({ level: 'supervised' }), internal, none).ok).toBe(true);
    expect(decideApproval(autonomy({ level: 'supervised', approval: { remember: 'always' } }), internal, none).ok).toBe(false);
    expect(decideApproval(autonomy({}), ext, { actions: 19, sats: 0 }).ok).toBe(true);
    expect(decideApproval(autonomy({}), ext, { actions: 20, sats: 0 })).toEqual({ ok: false, reason: "over today's allowance of 20 unattended actions" });
    expect(decideApproval(autonomy({ dailySats: 10 }), { tool: 'pay', external: true, sats: 11 }, none).ok).toBe(false);
    expect(decideApproval(autonomy({ dailySats: 10 }), { tool: 'pay', external: true, sats: 10 }, none).ok).toBe(true);
    expect(decideApproval(autonomy({ level: 'autonomous' }), ext, { actions: 1000, sats: 0 }).ok).toBe(true);
    expect(decideApproval(autonomy({ level: 'autonomous', approval: { 'fs.*': 'always' } }), { tool: 'fs.write', external: true, sats: 0 }, none).ok).toBe(false);
    expect(decideApproval(autonomy({ level: 'autonomous', approval: { 'fs.*': 'always', 'fs.read': 'never' } }), { tool: 'fs.read', external: true, sats: 0 }, none).ok).toBe(true);
    expect(decideApproval(autonomy({ level: 'bounded', approval: { http_fetch: 'never' } }), ext, { actions: 99, sats: 0 }).ok).toBe(true);
    expect(parseApprovalCommand(' /approve k7qx2m ')).toEqual({ decision: 'approve', code: 'K7QX2M' });
    expect(parseApprovalCommand('/deny')).toBeUndefined();
    expect(parseApprovalCommand('please /approve K7QX2M')).toBeUndefined();
  });
});

describe('runtime: owner approvals across ticks', () => {
  let fx: RuntimeFixture;
  let server: FakeLlmServer;
  let runtime: Runtime;
  let a: AgentRecord;
  const notes = async (): Promise<string[]> => (await fx.plainEvents(a)).filter((e) => e.kind === 1).map((e) => e.content);
  const toOwner = async (): Promise<string[]> => await fx.dmsTo(owner, a);
  const codeIn = (text: string): string => /\/approve ([0-9A-Z]{6})/.exec(text)![1]!;
  const say = async (text: string, from = owner): Promise<void> => {
    await runtime.deliver(inbound(a, from, text));
    await runtime.idle();
  };

  beforeEach(async () => {
    fx = new RuntimeFixture();
    server = await startFakeLlmServer({ handler: model });
    const baseUrl = server.baseUrl;
    runtime = await fx.runtime({ thinkFor: () => new OpenAiProvider({ baseUrl, model: 'fake-model', maxAttempts: 1 }) });
  });
  afterEach(async () => {
    await fx.close();
    await server.close();
  });

  it('supervised: approve runs the call once; a second approve, an unknown code and a stranger change nothing', async () => {
    a = await fx.agent(runtime, 'a', 'llm', { tools: ['publish_note', 'recall'], autonomy: 'supervised', dmPolicy: 'open' });
    await say('post hello world');
    expect(await notes()).toEqual([]);
    const [request] = await toOwner();
    expect(request).toMatch(/^a wants to call publish_note with \{"text":"hello world"\}\nWhy: I will post it\.\nAsking because supervised: every external action needs your approval\.\nReply \/approve [0-9A-Z]{6} or \/deny [0-9A-Z]{6} \(denied automatically at /);
    const code = codeIn(request!);
    const first = (await fx.storage.ticks.last(a.index))!;
    expect(first.steps.some((s) => s.type === 'tool' && s.name === 'publish_note' && s.detail?.suspended === true && s.detail?.approval === true)).toBe(true);

    // A stranger's /approve is refused as a recorded tick; nothing runs.
    await say(`/approve ${code}`, stranger(0x42));
    expect(await fx.storage.ticks.last(a.index)).toMatchObject({ outcome: 'refused', error: 'approval commands are accepted only from the owner' });
    expect(await notes()).toEqual([]);
    expect(server.requests).toHaveLength(1);

    await say(`/approve ${code.toLowerCase()}`);
    expect(await notes()).toEqual(['hello world']);
    expect((await toOwner()).slice(1)).toEqual([`Approved ${code}: publish_note runs now.`, 'result: {"ok":true}']);
    const resumed = (await fx.storage.ticks.last(a.index))!;
    expect(resumed.steps.find((s) => s.name === 'approval')?.detail).toMatchObject({ code, tool: 'publish_note', decision: 'approved' });
    expect(resumed.steps.find((s) => s.type === 'tool' && s.name === 'publish_note')?.detail).toMatchObject({ ok: true, approved: true });

    await say(`/approve ${code}`);
    await say('/deny ZZZZZZ');
    expect(await notes()).toEqual(['hello world']);
    expect((await toOwner()).slice(3)).toEqual([expect.stringMatching(new RegExp(`^Approval ${code} \\(publish_note\\) was already decided: approved at `)), 'There is no approval ZZZZZZ waiting.']);
    expect(server.requests).toHaveLength(2);
  });

  it('deny and the timeout tell the model the call was not run; a late approve finds it closed', async () => {
    a = await fx.agent(runtime, 'a', 'llm', { tools: ['publish_note'], autonomy: { level: 'supervised', timeoutSeconds: 60 } });
    await say('post one');
    await say(`/deny ${codeIn((await toOwner())[0]!)}`);
    expect((await toOwner()).slice(1)).toEqual([expect.stringMatching(/^Denied [0-9A-Z]{6}: publish_note will not run\.$/), 'result: {"error":"my owner denied this call","denied":true}']);

    await say('post two');
    const code = codeIn((await toOwner())[3]!);
    await fx.clock.advance(60_000);
    await waitFor('the timeout answer', async () => (await toOwner()).length === 5);
    await runtime.idle();
    expect((await toOwner())[4]).toBe('result: {"error":"my owner did not answer the approval request in time, so this call was not run","denied":true}');
    expect((await fx.storage.ticks.last(a.index))!.steps.find((s) => s.name === 'approval')?.detail).toMatchObject({ code, decision: 'timeout' });
    await say(`/approve ${code}`);
    expect((await toOwner())[5]).toMatch(new RegExp(`^Approval ${code} \\(publish_note\\) was already decided: denied: no answer came in time`));
    expect(await notes()).toEqual([]);
    expect((await fx.storage.kv(a.index).list(APPROVAL_PREFIX)).map((e) => (e.value as { status: string }).status)).toEqual(['closed', 'closed']);
  });

  it('bounded: external calls run unattended within the daily allowance, then ask', async () => {
    a = await fx.agent(runtime, 'a', 'llm', { tools: ['publish_note'], autonomy: { level: 'bounded', dailyActions: 1 } });
    await say('post first');
    expect(await notes()).toEqual(['first']);
    expect(await toOwner()).toEqual(['result: {"ok":true}']);
    await say('post second');
    expect(await notes()).toEqual(['first']);
    expect((await toOwner())[1]).toMatch(/Asking because over today's allowance of 1 unattended actions\./);
    await say(`/approve ${codeIn((await toOwner())[1]!)}`);
    expect(await notes()).toEqual(['first', 'second']);
  });

  it('a tool that spends sats asks (bounded, no sats allowance), and spends them once when approved', async () => {
    const pay = defineTool({
      name: 'pay', description: 'Pay an invoice.', schema: z.object({ sats: z.number().int().positive() }),
      sats: ({ sats }) => sats,
      async run({ sats }) {
        paid.push(sats);
        return { paid: sats };
      },
    });
    const paid: number[] = [];
    fx.define(defineAgent({ name: 'payer', about: 'Pays.', tools: [pay], onMessage: (ctx, m) => answerWithLlm(ctx, m, [pay]) }));
    server.enqueue({ kind: 'reply', toolCalls: [{ name: 'pay', arguments: { sats: 21 } }] });
    a = await fx.agent(runtime, 'a', 'payer', { tools: ['pay'], budget: { dailySats: 100 } });
    await say('pay the invoice');
    expect(paid).toEqual([]);
    expect((await toOwner())[0]).toMatch(/^a wants to call pay with \{"sats":21\}\n.*Asking because it would spend 21 sats, over today's unattended allowance \(0 of 0 used\)\./s);
    // The module's default onApproval resumes the loop with its own tools.
    await say(`/approve ${codeIn((await toOwner())[0]!)}`);
    expect(paid).toEqual([21]);
    expect((await toOwner()).at(-1)).toBe('result: {"paid":21}');
    expect((await fx.storage.budget.get(a.index, '2023-11-14')).sats).toBe(21);
  });
});
