/**
 * Delegation across ticks, through the real runtime: the delegating tick commits the DM, a pending
 * record and a timeout alarm; the delegate's reply (a real NIP-17 gift wrap carried from the outbox
 * into the runtime) resumes the tool loop in a later tick and the requester gets one answer. The
 * timeout answers "no reply" once, and late or repeated replies are dropped.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/behaviors/define-agent.js';
import { unwrapGift, type Rumor } from '../../src/protocol/nip59.js';
import { classifyGiftWrap } from '../../src/relay/classify.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { DELEGATION_PREFIX, delegationRumorId, matchDelegation, type DelegationRecord } from '../../src/runtime/delegation.js';
import type { Trigger } from '../../src/runtime/types.js';
import type { JsonValue } from '../../src/storage/types.js';
import type { Runtime } from '../../src/runtime/engine.js';
import type { AgentRecord } from '../../src/storage/types.js';
import { OpenAiProvider } from '../../src/think/openai.js';
import { startFakeLlmServer, type FakeLlmServer, type FakeReply, type ReceivedRequest } from '../helpers/fake-llm-server.js';
import { RuntimeFixture, accountSigner, gate, inbound, owner, stranger, waitFor } from './helpers.js';

type Msg = { role: string; content: string | null };

/** The model: asked anything, it delegates to "b"; given the tool result, it reports it. */
function delegatingModel(timeoutSeconds: number) {
  return (req: ReceivedRequest): FakeReply => {
    const last = (req.body!.messages as Msg[]).at(-1)!;
    if (last.role === 'user') return { kind: 'reply', toolCalls: [{ name: 'delegate', arguments: { agent: 'b', text: `please: ${last.content}`, timeout_seconds: timeoutSeconds } }] };
    const result = JSON.parse(last.content!) as { reply?: string; error?: string };
    return { kind: 'reply', text: result.reply !== undefined ? `b says: ${result.reply}` : `b did not answer (${result.error})` };
  };
}

describe('runtime: delegation across ticks', () => {
  let fx: RuntimeFixture;
  let server: FakeLlmServer | undefined;
  let runtime: Runtime;
  const carried = new Set<number>();
  /** Delivers every not-yet-carried DM queued for `to` (what relays would do). */
  const carry = async (to: AgentRecord): Promise<number> => {
    let n = 0;
    for (const e of (await fx.storage.outbox.list())) {
      if (carried.has(e.id) || e.event.kind !== 1059 || e.target.type !== 'dm' || e.target.recipient !== to.pubkey) continue;
      carried.add(e.id);
      const classified = classifyGiftWrap(e.event, accountSigner(to.index + 1), 'ws://127.0.0.1:1');
      if (!('messages' in classified)) throw new Error(`wrap rejected: ${classified.reject}`);
      for (const m of classified.messages) await runtime.deliver(m);
      n += classified.messages.length;
    }
    return n;
  };
  const delegations = async (agent: AgentRecord): Promise<Array<{ status: string; subject: string; target: string }>> =>
    (await fx.storage.kv(agent.index).list(DELEGATION_PREFIX)).map((e) => e.value as { status: string; subject: string; target: string });

  beforeEach(() => {
    fx = new RuntimeFixture();
    carried.clear();
  });
  afterEach(async () => {
    await fx.close();
    await server?.close();
  });

  const start = async (timeoutSeconds: number): Promise<{ a: AgentRecord; b: AgentRecord }> => {
    server = await startFakeLlmServer({ handler: delegatingModel(timeoutSeconds) });
    const baseUrl = server.baseUrl;
    runtime = await fx.runtime({ thinkFor: () => new OpenAiProvider({ baseUrl, model: 'fake-model', maxAttempts: 1 }) });
    const a = await fx.agent(runtime, 'a', 'llm', { tools: ['delegate'] });
    const b = await fx.agent(runtime, 'b', 'echo');
    return { a, b };
  };

  it('the reply resumes the loop in a later tick; the requester gets exactly one answer', async () => {
    const { a, b } = await start(60);
    await runtime.deliver(inbound(a, owner, 'what is the word?'));
    await waitFor('the delegation DM', async () => (await fx.dmsTo(accountSigner(b.index + 1), a)).length === 1);
    await runtime.idle();
    expect(await fx.dmsTo(accountSigner(b.index + 1), a)).toEqual(['please: what is the word?']);
    expect(await fx.dmsTo(owner, a)).toEqual([]);
    const [pending] = await delegations(a);
    expect(pending).toMatchObject({ status: 'open', target: b.pubkey });
    expect((await fx.storage.schedules.list(a.index)).some((s) => s.key?.startsWith('__delegation:'))).toBe(true);

    // b (echo, another agent of this home) answers over NIP-17; a is owner-only, yet b's reply is let in.
    expect(await carry(b)).toBe(1);
    await waitFor('b echoes', async () => (await fx.dmsTo(accountSigner(a.index + 1), b)).length === 1);
    expect(await carry(a)).toBe(1);
    await waitFor('the answer', async () => (await fx.dmsTo(owner, a)).length === 1);
    await runtime.idle();
    expect(await fx.dmsTo(owner, a)).toEqual(['b says: echo: please: what is the word?']);
    // The answer threads to the owner's original message.
    const answer = (await fx.rumorsTo(owner)).find((r) => r.pubkey === a.pubkey)!;
    expect(answer.tags.some((t) => t[0] === 'e')).toBe(true);
    expect(await delegations(a)).toMatchObject([{ status: 'closed' }]);
    expect((await fx.storage.schedules.list(a.index)).some((s) => s.key?.startsWith('__delegation:'))).toBe(false);
    // Both ticks are in a's trajectory: the one that delegated and the one that resumed.
    const ticks = (await fx.storage.ticks.list(a.index)).filter((t) => t.trigger.type === 'dm');
    expect(ticks.map((t) => t.trigger.from)).toEqual([owner.getPublicKey(), b.pubkey]);
    expect(ticks[0]!.steps.some((s) => s.type === 'tool' && s.name === 'delegate' && s.detail?.suspended === true)).toBe(true);
    expect(ticks[1]!.steps.some((s) => s.name === 'llm.onDelegateReply' && s.detail?.outcome === 'reply')).toBe(true);
    // The model saw the reply as the delegate tool's result.
    const resumed = server!.requests[1]!.body!.messages as Msg[];
    expect(resumed.at(-1)).toMatchObject({ role: 'tool', content: JSON.stringify({ reply: 'echo: please: what is the word?' }) });

    // A second reply to the same delegation (its subject) is dropped: no second answer, no LLM call.
    await runtime.deliver(inbound(a, accountSigner(b.index + 1), 'echo: again', { subject: pending!.subject }));
    // A stranger is still refused by the owner-only policy.
    await runtime.deliver(inbound(a, stranger(0x77), 'let me in'));
    await runtime.idle();
    expect(await fx.dmsTo(owner, a)).toHaveLength(1);
    expect(server!.requests).toHaveLength(2);
    const again = (await fx.storage.ticks.list(a.index)).find((t) => t.trigger.text === 'echo: again')!;
    expect(again.steps.some((s) => s.detail?.outcome === 'stale')).toBe(true);
    expect(await fx.dmsTo(stranger(0x77), a)).toEqual([]);
  });

  it('no reply in time: the timeout answers once, and the late reply is ignored', async () => {
    const { a, b } = await start(30);
    await runtime.deliver(inbound(a, owner, 'anyone there?'));
    await waitFor('the delegation DM', async () => (await fx.dmsTo(accountSigner(b.index + 1), a)).length === 1);
    await runtime.idle();
    await fx.clock.advance(30_000);
    await waitFor('the timeout answer', async () => (await fx.dmsTo(owner, a)).length === 1);
    await runtime.idle();
    expect(await fx.dmsTo(owner, a)).toEqual(['b did not answer (no reply from b in time)']);
    const timeoutTick = (await fx.storage.ticks.last(a.index))!;
    expect(timeoutTick.trigger.type).toBe('alarm');
    expect(timeoutTick.steps.some((s) => s.name === 'llm.onDelegateReply' && s.detail?.outcome === 'timeout')).toBe(true);

    // b answers only now: the record is closed, the reply is recorded and dropped.
    await carry(b);
    await waitFor('b echoes', async () => (await fx.dmsTo(accountSigner(a.index + 1), b)).length === 1);
    await carry(a);
    await waitFor('late reply handled', async () => (await fx.storage.ticks.last(a.index))!.trigger.from === b.pubkey);
    await runtime.idle();
    expect(await fx.dmsTo(owner, a)).toHaveLength(1);
    expect(server!.requests).toHaveLength(2);
    expect((await fx.storage.ticks.last(a.index))!.steps.some((s) => s.detail?.outcome === 'stale')).toBe(true);
  });

  it('ctx.delegate from a plain behavior: the reply is forwarded to the requester by default; unknown targets are a clear error', async () => {
    fx.define(
      defineAgent({
        name: 'asker',
        about: 'asks b whatever it is told',
        defaultDmPolicy: 'open',
        async onMessage(ctx, m) {
          if (m.text === 'bad') {
            try {
              await ctx.delegate('nobody-here', 'x');
            } catch (error) {
              return ctx.reply((error as Error).message);
            }
          }
          await ctx.delegate('b', m.text, { timeoutMs: 10_000 });
        },
      }),
    );
    runtime = await fx.runtime();
    const a = await fx.agent(runtime, 'a', 'asker');
    const b = await fx.agent(runtime, 'b', 'echo');
    const alice = stranger(0xa1);
    await runtime.deliver(inbound(a, alice, 'bad'));
    await waitFor('error answer', async () => (await fx.dmsTo(alice, a)).length === 1);
    expect((await fx.dmsTo(alice, a))[0]).toMatch(/"nobody-here" is neither an agent of this home nor a public key/);
    await runtime.deliver(inbound(a, alice, 'hello b'));
    await waitFor('delegation DM', async () => (await fx.dmsTo(accountSigner(b.index + 1), a)).length === 1);
    await runtime.idle();
    await carry(b);
    await waitFor('b echoes', async () => (await fx.dmsTo(accountSigner(a.index + 1), b)).length === 1);
    await carry(a);
    await waitFor('forwarded', async () => (await fx.dmsTo(alice, a)).length === 2);
    expect((await fx.dmsTo(alice, a))[1]).toBe('echo: hello b');
  });

  it('delegate is a capability: not granted, or a target outside dm.allow, is refused and recorded', async () => {
    server = await startFakeLlmServer({ handler: delegatingModel(60) });
    const baseUrl = server.baseUrl;
    runtime = await fx.runtime({ thinkFor: () => new OpenAiProvider({ baseUrl, model: 'fake-model', maxAttempts: 1 }) });
    const a = await fx.agent(runtime, 'a', 'llm', { tools: ['delegate'], dm: { allow: ['c'] } });
    await fx.agent(runtime, 'b', 'echo');
    await runtime.deliver(inbound(a, owner, 'go'));
    await waitFor('answer', async () => (await fx.dmsTo(owner, a)).length === 1);
    expect((await fx.dmsTo(owner, a))[0]).toMatch(/b did not answer \(delegating to "b" is not allowed/);
    const tick = (await fx.storage.ticks.last(a.index))!;
    expect(tick.steps.some((s) => s.type === 'tool' && s.name === 'delegate' && s.detail?.refused === true)).toBe(true);
    expect(await delegations(a)).toEqual([]);
  });

  it('two delegations to the same delegate answered out of order: each reply reaches its own by the e tag', async () => {
    const bob = stranger(0xb0);
    const alice = stranger(0xa1);
    const carol = stranger(0xc1);
    const slowCommit = gate();
    let waiting = false;
    fx.define(
      defineAgent({
        name: 'asks-bob',
        about: 'asks bob whatever it is told',
        defaultDmPolicy: 'open',
        async onMessage(ctx, m) {
          await ctx.delegate(bob.getPublicKey(), m.text, { timeoutMs: 60_000 });
          // The second delegating tick commits a few seconds after ctx.delegate.
          if (m.text === 'q2') {
            waiting = true;
            await slowCommit.promise;
          }
        },
      }),
    );
    runtime = await fx.runtime();
    const a = await fx.agent(runtime, 'a', 'asks-bob');
    /** The delegation DMs bob got, as rumors (with ids), oldest first. */
    const toBob = async (): Promise<Rumor[]> =>
      (await fx.storage.outbox
        .list({ agentPubkey: a.pubkey }))
        .filter((e) => e.event.kind === 1059 && e.target.type === 'dm' && e.target.recipient === bob.getPublicKey())
        .sort((x, y) => x.id - y.id)
        .map((e) => {
          const opened = unwrapGift(e.event, bob);
          if (!opened.ok) throw new Error(`wrap did not open: ${opened.reason}`);
          return opened.rumor;
        });
    /** Bob answers like a client that threads by `e` tag only (no subject), through real gift wraps. */
    const answer = async (to: Rumor, text: string): Promise<void> => {
      const [wrap] = buildDirectMessage(bob, a.pubkey, text, { replyTo: { id: to.id } });
      const classified = classifyGiftWrap(wrap!.event, accountSigner(a.index + 1), 'ws://127.0.0.1:1');
      if (!('messages' in classified)) throw new Error(`wrap rejected: ${classified.reject}`);
      expect(classified.messages[0]).toMatchObject({ inReplyTo: to.id });
      expect(classified.messages[0]!.subject).toBeUndefined();
      for (const m of classified.messages) await runtime.deliver(m);
    };

    await runtime.deliver(inbound(a, alice, 'q1'));
    await waitFor('the first delegation DM', async () => (await toBob()).length === 1);
    await fx.clock.advance(1000);
    await runtime.deliver(inbound(a, carol, 'q2'));
    await waitFor('the second tick delegating', () => waiting);
    await fx.clock.advance(5000);
    slowCommit.open();
    await waitFor('the second delegation DM', async () => (await toBob()).length === 2);
    await runtime.idle();
    const [first, second] = await toBob();
    expect([first!.content, second!.content]).toEqual(['q1', 'q2']);
    // The DM is dated when ctx.delegate ran (its rumor id is kept in the record), not when the tick committed.
    expect(second!.created_at).toBe(Math.floor((fx.clock.now() - 5000) / 1000));

    // Bob answers the second first: the oldest-open fallback would hand it to alice.
    await answer(second!, 'answer to q2');
    await waitFor('carol answered', async () => (await fx.dmsTo(carol, a)).length === 1);
    await answer(first!, 'answer to q1');
    await waitFor('alice answered', async () => (await fx.dmsTo(alice, a)).length === 1);
    await runtime.idle();
    expect(await fx.dmsTo(carol, a)).toEqual(['answer to q2']);
    expect(await fx.dmsTo(alice, a)).toEqual(['answer to q1']);
    expect((await delegations(a)).map((d) => d.status)).toEqual(['closed', 'closed']);

    // A repeated answer to the first finds it closed: recorded as stale, nobody gets it.
    await runtime.deliver(inbound(a, alice, 'q3'));
    await waitFor('a third delegation DM', async () => (await toBob()).length === 3);
    await runtime.idle();
    await answer(first!, 'answer to q1 again');
    await runtime.idle();
    expect((await fx.storage.ticks.last(a.index))!.steps.some((st) => st.detail?.outcome === 'stale')).toBe(true);
    expect(await fx.dmsTo(alice, a)).toEqual(['answer to q1']);
    expect((await delegations(a)).filter((d) => d.status === 'open')).toHaveLength(1);
  });
});

describe('matchDelegation', () => {
  const agentPubkey = accountSigner(1).getPublicKey();
  const bob = stranger(0xb0).getPublicKey();
  const record = (id: string, createdAt: number, status: 'open' | 'closed' = 'open'): DelegationRecord => {
    const r: DelegationRecord = { id, target: bob, text: `task ${id}`, subject: `delegation ${id}`, createdAt, deadline: createdAt + 60_000, origin: { requester: owner.getPublicKey() }, status };
    return { ...r, rumorId: delegationRumorId(r, agentPubkey, Math.floor(createdAt / 1000)) };
  };
  const memory = (records: DelegationRecord[]) => ({ list: async () => records.map((r) => ({ key: `${DELEGATION_PREFIX}${r.id}`, value: r as unknown as JsonValue })) });
  const reply = (extra: { inReplyTo?: string; subject?: string }): Trigger => {
    const message = inbound(agentPubkey, bob, 'done', extra);
    return { type: 'dm', inboxId: 9, inbound: message, message: { kind: 'dm', protocol: 'nip17', sender: bob, text: 'done', fromOwner: false, createdAt: message.createdAt, ...(extra.subject ? { subject: extra.subject } : {}) } };
  };
  const older = record('1', 1_700_000_000_000);
  const newer = record('2', 1_700_000_010_000);
  const idOf = (r: DelegationRecord): string => r.rumorId!;

  it('the e tag wins over the subject, the subject over the oldest open delegation', async () => {
    expect(await matchDelegation(memory([older, newer]), reply({ inReplyTo: idOf(newer), subject: older.subject }))).toMatchObject({ type: 'reply', record: { id: '2' } });
    expect(await matchDelegation(memory([older, newer]), reply({ subject: newer.subject }))).toMatchObject({ type: 'reply', record: { id: '2' } });
    expect(await matchDelegation(memory([older, newer]), reply({ inReplyTo: 'f'.repeat(64) }))).toMatchObject({ type: 'reply', record: { id: '1' } });
    expect(await matchDelegation(memory([older, newer]), reply({}))).toMatchObject({ type: 'reply', record: { id: '1' } });
  });

  it('an e tag naming a closed delegation is stale, never given to another open one', async () => {
    const closed = { ...older, status: 'closed' as const, closedAt: older.createdAt + 1000 };
    expect(await matchDelegation(memory([closed, newer]), reply({ inReplyTo: idOf(closed) }))).toMatchObject({ type: 'stale', record: { id: '1' }, why: 'late-reply' });
  });
});
