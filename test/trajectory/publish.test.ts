import { describe, expect, it } from 'vitest';
import { verifyEvent } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { bytesToHex } from '../../src/protocol/hex.js';
import { nsecEncode } from '../../src/protocol/nip19.js';
import { chainFromEvents, emptyChain, parseChain } from '../../src/trajectory/chain.js';
import { hashBody, MAX_CONTENT_BYTES } from '../../src/trajectory/content.js';
import { trajectoryEvents } from '../../src/trajectory/publish.js';
import { TickContentSchema } from '../../src/trajectory/schema.js';
import { trajectoryHash } from '../../src/trajectory/session.js';
import type { TickRecord } from '../../src/trajectory/types.js';
import { verifyTrajectory } from '../../src/trajectory/verify.js';
import { agent, echoRecord, keys, MNEMONIC, owner, relayView, runTicks, stranger } from './fixtures.js';

const opts = { signer: agent, ownerPubkey: keys.owner.publicKey };

/** Every event these tests publish, scanned for secrets at the end. */
const published: NostrEvent[] = [];
const track = <T extends { ticks: NostrEvent[]; sessions: NostrEvent[] }>(run: T): T => {
  published.push(...run.ticks, ...run.sessions);
  return run;
};

describe('private ticks', () => {
  const { ticks } = track(runTicks(3));

  it('are readable by the owner and the agent, and by nobody else', () => {
    const tick = ticks[1]!;
    expect(verifyEvent(tick)).toBe(true);
    expect(tick.content).not.toContain('hello');
    expect(tick.tags).toContainEqual(['visibility', 'private']);
    const plain = owner.nip44.decrypt(keys.agent.publicKey, tick.content);
    expect(TickContentSchema.parse(JSON.parse(plain)).trigger.text).toBe('hello number 2');
    expect(agent.nip44.decrypt(keys.owner.publicKey, tick.content)).toBe(plain);
    expect(() => stranger.nip44.decrypt(keys.agent.publicKey, tick.content)).toThrow();
  });

  it('carry canonical JSON: sorted keys, no whitespace', () => {
    const plain = owner.nip44.decrypt(keys.agent.publicKey, ticks[0]!.content);
    expect(plain.startsWith('{"budget":{"computeMs":40,"llmCalls":0,"tokens":0},"endedAt":')).toBe(true);
    expect(plain).not.toMatch(/\s"|":\s/);
  });
});

describe('public ticks', () => {
  it('are plaintext with DM texts replaced by their hash, wherever they are quoted', () => {
    const record = (seq: number): TickRecord => {
      const r = echoRecord(seq, undefined, 'meet me at the old mill');
      r.steps.push({ type: 'think', at: r.startedAt + 1, ms: 1, name: 'llm', detail: { prompt: 'User said: meet me at the old mill' } });
      r.steps.push({ type: 'message', at: r.startedAt + 2, ms: 1, detail: { protocol: 'note', text: 'a public note' } });
      return r;
    };
    const { ticks } = track(runTicks(2, { visibility: 'public' }, record));
    const content = TickContentSchema.parse(JSON.parse(ticks[0]!.content));
    const hash = hashBody('meet me at the old mill');
    expect(content.trigger.text).toBe(hash);
    expect(content.steps[2]!.detail).toMatchObject({ protocol: 'nip17', text: hashBody('echo: meet me at the old mill') });
    expect(content.steps[4]!.detail).toEqual({ prompt: `User said: ${hash}` });
    expect(content.steps[5]!.detail).toEqual({ protocol: 'note', text: 'a public note' });
    expect(JSON.stringify(ticks)).not.toContain('old mill');
    expect(ticks[0]!.tags).toContainEqual(['visibility', 'public']);
    // Public ticks verify without any key.
    expect(verifyTrajectory(ticks, { agentPubkey: keys.agent.publicKey }).report).toMatchObject({ ok: false, breaks: [{ kind: 'session' }] });
  });

  it('publish DM texts when the agent is configured to', () => {
    const { ticks } = track(runTicks(1, { visibility: 'public', publishBodies: true }));
    expect(JSON.parse(ticks[0]!.content).trigger.text).toBe('hello number 1');
  });
});

describe('secrets', () => {
  const agentHex = bytesToHex(keys.agent.secretKey);
  const ownerHex = bytesToHex(keys.owner.secretKey);
  const secrets = [agentHex, ownerHex, nsecEncode(keys.agent.secretKey), nsecEncode(keys.owner.secretKey), MNEMONIC, 'sk-live-0123456789abcdefXYZ', 'configured-llm-key-42'];
  const leaky = (seq: number): TickRecord => {
    const r = echoRecord(seq, undefined, `here is my nsec ${nsecEncode(keys.owner.secretKey)} and words ${MNEMONIC}`);
    r.steps.push({ type: 'tool', at: r.startedAt, ms: 1, name: 'http_fetch', detail: { url: 'https://x.test', headers: { Authorization: 'Bearer sk-live-0123456789abcdefXYZ' }, raw: ownerHex } });
    r.steps.push({ type: 'state', at: r.startedAt, ms: 1, name: 'kv', detail: { key: 'k', value: agentHex, llm: 'configured-llm-key-42' } });
    r.error = `failed with key ${agentHex}`;
    return r;
  };

  it('never appear in an event, public or private, decrypted or not', () => {
    for (const visibility of ['public', 'private'] as const) {
      for (const publishBodies of [false, true]) {
        const run = track(runTicks(2, { visibility, publishBodies, knownSecrets: ['configured-llm-key-42'] }, leaky));
        const texts = run.ticks.map((t) => (visibility === 'private' ? owner.nip44.decrypt(keys.agent.publicKey, t.content) : t.content));
        const all = JSON.stringify([run.ticks, run.sessions, texts]);
        for (const secret of secrets) expect(all).not.toContain(secret);
        expect(texts[0]).toMatch(/<redacted:sha256:[0-9a-f]{16}>/);
      }
    }
  });

  it('appear in none of the events this file published', () => {
    expect(published.length).toBeGreaterThan(20);
    const texts = published.map((e) => {
      const visibility = e.tags.find((t) => t[0] === 'visibility')?.[1];
      return e.kind === 9230 && visibility === 'private' ? owner.nip44.decrypt(keys.agent.publicKey, e.content) : e.content;
    });
    const all = JSON.stringify([published, texts]);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});

describe('size limit', () => {
  it('cuts long strings, then details, then steps, and says so', () => {
    const record = echoRecord(1);
    for (let i = 0; i < 400; i++) record.steps.push({ type: 'tool', at: record.startedAt, ms: 1, name: `t${i}`, detail: { out: 'x'.repeat(5000) } });
    const out = trajectoryEvents(record, emptyChain(), opts);
    expect(out.content.truncated).toMatchObject({ strings: 400, details: expect.any(Number) });
    const plain = owner.nip44.decrypt(keys.agent.publicKey, out.tick.content);
    expect(Buffer.byteLength(plain)).toBeLessThanOrEqual(MAX_CONTENT_BYTES);
    expect(TickContentSchema.parse(JSON.parse(plain)).truncated).toEqual(out.content.truncated);

    const many = echoRecord(1);
    for (let i = 0; i < 3000; i++) many.steps.push({ type: 'state', at: many.startedAt, ms: 1, name: `key-${i}` });
    const cut = trajectoryEvents(many, emptyChain(), opts);
    expect(cut.content.truncated!.steps).toBeGreaterThan(0);
    expect(cut.content.steps.length + cut.content.truncated!.steps).toBe(3004);
  });
});

describe('normalization', () => {
  it('turns clock hiccups into zeros instead of failing the tick', () => {
    const record = echoRecord(1);
    record.steps[0] = { ...record.steps[0]!, ms: -3, at: record.startedAt + 0.6 };
    record.steps[1] = { ...record.steps[1]!, ms: Number.NaN, tokens: { input: 1.4, output: -2 } };
    record.budget = { computeMs: Infinity, llmCalls: 1, tokens: 2.5 };
    const { content } = trajectoryEvents(record, emptyChain(), opts);
    expect(content.steps[0]).toMatchObject({ ms: 0, at: record.startedAt + 1 });
    expect(content.steps[1]).toMatchObject({ ms: 0, tokens: { input: 1, output: 0 } });
    expect(content.budget).toEqual({ computeMs: 0, llmCalls: 1, tokens: 3 });
  });

  it('cuts a huge string at a separator before redacting, never leaving half a secret', () => {
    const secret = bytesToHex(keys.owner.secretKey);
    const record = echoRecord(1);
    const filler = 'word '.repeat(7_999) + 'wor'; // 39,998 characters
    record.steps.push({ type: 'tool', at: record.startedAt, ms: 1, detail: { out: `${filler} ${secret} tail` } });
    const { content } = trajectoryEvents(record, emptyChain(), opts);
    const out = String(content.steps[4]!.detail!.out);
    expect(out).not.toContain(secret.slice(0, 8));
    expect(out).toMatch(/…\[\+\d+ chars\]$/);
  });
});

describe('chain state', () => {
  it('refuses a record that does not follow the chain or is not the agent’s', () => {
    const first = trajectoryEvents(echoRecord(1), emptyChain(), opts);
    expect(() => trajectoryEvents(echoRecord(3), first.chain, opts)).toThrow('tick seq 3 does not follow the trajectory chain, whose last seq is 1');
    expect(() => trajectoryEvents(echoRecord(2), first.chain, { ...opts, signer: stranger })).toThrow(/tick record is for agent/);
    const bad = { ...echoRecord(2), trigger: { type: 'dm' as const, eventId: 'not-hex', at: 1 } };
    expect(() => trajectoryEvents(bad, first.chain, opts)).toThrow(/tick 2 cannot be published: .*eventId/s);
  });

  it('round-trips through JSON and rejects a corrupt state naming the field', () => {
    const { chain } = runTicks(2);
    expect(parseChain(JSON.parse(JSON.stringify(chain)))).toEqual(chain);
    expect(() => parseChain({ ...chain, lastId: 'xyz' })).toThrow('invalid trajectory chain state: lastId: must be 64 lowercase hex characters');
  });

  it('opens a new session each UTC day and verifies across days', () => {
    const day = 86_400_000;
    const run = track(runTicks(6, {}, (seq) => echoRecord(seq, Date.UTC(2024, 4, 1, 23, 58) + Math.floor((seq - 1) / 2) * day)));
    const ds = run.sessions.map((s) => s.tags.find((t) => t[0] === 'd')?.[1]);
    expect(ds).toEqual(['2024-05-01', '2024-05-01', '2024-05-02', '2024-05-02', '2024-05-03', '2024-05-03']);
    expect(run.sessions[3]!.tags).toContainEqual(['seq', '3', '4']);
    expect(run.sessions[3]!.tags).toContainEqual(['trajectory_hash', trajectoryHash([run.ticks[2]!.id, run.ticks[3]!.id])]);
    expect(run.ticks[2]!.tags).toContainEqual(['prev', run.ticks[1]!.id]);
    const { report } = verifyTrajectory(relayView(run.ticks, run.sessions), { agentPubkey: keys.agent.publicKey, owner });
    expect(report).toMatchObject({ ok: true, ticks: 6, sessions: 3 });
  });

  it('is rebuilt from published events, and continuing from it still verifies', () => {
    const run = runTicks(5);
    const events = relayView(run.ticks, run.sessions);
    const rebuilt = chainFromEvents(events, keys.agent.publicKey);
    expect(rebuilt).toEqual(run.chain);
    const next = trajectoryEvents(echoRecord(6), rebuilt, opts);
    const { report } = verifyTrajectory([...run.ticks, next.tick, next.session], { agentPubkey: keys.agent.publicKey, owner });
    expect(report).toMatchObject({ ok: true, ticks: 6 });
  });
});

describe('trajectory_hash', () => {
  it('matches the worked example in docs/trajectory.md', () => {
    expect(trajectoryHash(['a'.repeat(64)])).toBe('ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb');
    expect(trajectoryHash(['a'.repeat(64), 'b'.repeat(64)])).toBe('1ad179edaa87335f2e6f8ba2e83610e32ad01b65aacc54d0efd710c6e54413ad');
    expect(hashBody('hello')).toBe('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });
});
