import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { npubEncode } from '../../src/protocol/nip19.js';
import * as nip04 from '../../src/protocol/nip04.js';
import { createChatRumor } from '../../src/protocol/nip17.js';
import { createRumor, createSeal, createWrap } from '../../src/protocol/nip59.js';
import { OwnEchoes } from '../../src/relay/own-echoes.js';
import { Receiver } from '../../src/relay/receiver.js';
import { buildDirectMessage, buildReply } from '../../src/relay/reply.js';
import type { InboundMessage, SinkOptions } from '../../src/relay/types.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { openDatabase, type Db } from '../../src/storage/sqlite/database.js';
import { getProcessed } from '../../src/storage/sqlite/processed-store.js';
import { unwrapGift } from '../../src/protocol/nip59.js';

const agentKey = hexToBytes('01'.repeat(32));
const agent = new SecretKeySigner(agentKey);
const other = new SecretKeySigner(hexToBytes('02'.repeat(32)));
const aliceKey = hexToBytes('03'.repeat(32));
const alice = new SecretKeySigner(aliceKey);
const mallory = new SecretKeySigner(hexToBytes('04'.repeat(32)));
const now = 1_700_000_000;
let n = 0;
const entropy = { now, random: () => 0.5, newWrapKey: () => hexToBytes((++n + 100).toString(16).padStart(64, '0')) };

let db: Db;
afterEach(() => db?.close());

function setup(sink?: (m: InboundMessage, o?: SinkOptions) => Promise<boolean | void>, ownEchoes?: OwnEchoes): { receiver: Receiver; got: InboundMessage[] } {
  db = openDatabase(':memory:');
  const got: InboundMessage[] = [];
  const receiver = new Receiver({
    storage: new SqliteAgentStorage(db),
    keys: (p) => (p === agent.getPublicKey() ? agent : p === other.getPublicKey() ? other : undefined),
    hosted: () => [agent.getPublicKey(), other.getPublicKey()],
    sink: sink ?? (async (m) => void got.push(m)),
    ...(ownEchoes ? { ownEchoes } : {}),
  });
  return { receiver, got };
}

describe('Receiver', () => {
  it('delivers a NIP-17 DM once, with rumor id, subject and reply context', async () => {
    const { receiver, got } = setup();
    const [wrap] = buildDirectMessage(alice, agent.getPublicKey(), 'hello agent', { subject: 'topic' }, entropy);
    expect(await receiver.handle(wrap!.event, 'ws://r1')).toBe(true);
    expect(await receiver.handle(wrap!.event, 'ws://r2')).toBe(true);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'dm', protocol: 'nip17', agentPubkey: agent.getPublicKey(), sender: alice.getPublicKey(), text: 'hello agent', eventId: wrap!.event.id, subject: 'topic', relay: 'ws://r1' });
    expect(got[0]!.replyTo.participants).toEqual([alice.getPublicKey()]);
    expect(receiver.counters).toMatchObject({ received: 2, delivered: 1, duplicates: 1 });
    expect(getProcessed(db, wrap!.event.id)?.outcome).toBe('delivered');
  });

  it('handles concurrent deliveries of the same event from two relays exactly once', async () => {
    const { receiver, got } = setup();
    const [wrap] = buildDirectMessage(alice, agent.getPublicKey(), 'race', {}, entropy);
    const results = await Promise.all([receiver.handle(wrap!.event, 'ws://a'), receiver.handle(wrap!.event, 'ws://b')]);
    expect(results).toEqual([true, true]);
    expect(got).toHaveLength(1);
  });

  it('drops and counts forged wraps, never calling the sink', async () => {
    const { receiver, got } = setup();
    const rumor = createChatRumor(alice.getPublicKey(), { recipients: [agent.getPublicKey()], content: 'I am alice', createdAt: now });
    // Mallory seals Alice's rumor with her own key.
    const forgedSeal = mallory.signEvent({ kind: 13, created_at: now, tags: [], content: mallory.nip44.encrypt(agent.getPublicKey(), JSON.stringify(rumor)) });
    const mismatch = createWrap(forgedSeal, agent.getPublicKey(), hexToBytes('aa'.repeat(32)), now);
    const goodSeal = createSeal(rumor, alice, agent.getPublicKey(), now);
    const badSig = createWrap({ ...goodSeal, sig: '0'.repeat(128) }, agent.getPublicKey(), hexToBytes('bb'.repeat(32)), now);
    const stranger = hexToBytes('05'.repeat(32));
    const wrongP = createWrap(goodSeal, new SecretKeySigner(stranger).getPublicKey(), hexToBytes('cc'.repeat(32)), now);
    const ownCopy = buildDirectMessage(agent, alice.getPublicKey(), 'mine', {}, entropy)[1]!.event;
    for (const e of [mismatch, badSig, wrongP, ownCopy]) expect(await receiver.handle(e, 'ws://r')).toBe(true);
    expect(got).toEqual([]);
    expect(receiver.counters.rejected).toMatchObject({ 'seal-rumor-mismatch': 1, 'bad-seal-signature': 1, 'wrong-recipient': 1, 'own-message': 1 });
    expect(getProcessed(db, mismatch.id)?.outcome).toBe('rejected:seal-rumor-mismatch');
  });

  it("settles an agent's own copy noted by the outbox without opening it; an unnoted copy is opened and dropped as before", async () => {
    const echoes = new OwnEchoes();
    const { receiver, got } = setup(undefined, echoes);
    const sent = buildDirectMessage(agent, alice.getPublicKey(), 'said by the agent', {}, entropy);
    const own = sent.find((o) => o.target.type === 'own')!.event;
    echoes.noteOwnCopy(own);
    expect(await receiver.handle(own, 'ws://r1')).toBe(true);
    expect(receiver.counters.rejected['own-message']).toBe(1);
    // Unopened: no processed row, so a replay after a restart (no notes) opens and records it.
    expect(getProcessed(db, own.id)).toBeUndefined();
    const again = buildDirectMessage(agent, alice.getPublicKey(), 'not noted', {}, entropy).find((o) => o.target.type === 'own')!.event;
    expect(await receiver.handle(again, 'ws://r1')).toBe(true);
    expect(receiver.counters.rejected['own-message']).toBe(2);
    expect(getProcessed(db, again.id)?.outcome).toBe('rejected:own-message');
    // A DM to the agent is delivered whatever was noted.
    const [incoming] = buildDirectMessage(alice, agent.getPublicKey(), 'to the agent', {}, entropy);
    expect(await receiver.handle(incoming!.event, 'ws://r1')).toBe(true);
    expect(got.map((m) => m.text)).toEqual(['to the agent']);
  });

  it('OwnEchoes notes gift wraps only and forgets the oldest past its limit', () => {
    const echoes = new OwnEchoes(2);
    const wraps = [1, 2, 3].map((i) => buildDirectMessage(agent, alice.getPublicKey(), `m${i}`, {}, entropy).find((o) => o.target.type === 'own')!.event);
    for (const w of wraps) echoes.noteOwnCopy(w);
    expect(wraps.map((w) => echoes.has(w.id))).toEqual([false, true, true]);
    const kind1 = finalizeEvent({ kind: 1, created_at: now, tags: [], content: 'note' }, agentKey);
    echoes.noteOwnCopy(kind1);
    expect(echoes.has(kind1.id)).toBe(false);
  });

  it('decrypts NIP-04 and recognizes mentions by p tag and by nostr:npub reference', async () => {
    const { receiver, got } = setup();
    const dm = finalizeEvent({ kind: 4, created_at: now, tags: [['p', agent.getPublicKey()]], content: nip04.encrypt(aliceKey, agent.getPublicKey(), 'legacy hi') }, aliceKey);
    const root = '9'.repeat(64);
    const mention = finalizeEvent({ kind: 1, created_at: now, tags: [['e', root, '', 'root'], ['p', agent.getPublicKey()]], content: `hey nostr:${npubEncode(other.getPublicKey())}` }, aliceKey);
    const unrelated = finalizeEvent({ kind: 1, created_at: now, tags: [], content: 'nothing' }, aliceKey);
    await receiver.handle(dm, 'ws://r');
    await receiver.handle(mention, 'ws://r');
    await receiver.handle(unrelated, 'ws://r');
    expect(got.map((m) => [m.protocol, m.agentPubkey === agent.getPublicKey() ? 'agent' : 'other', m.text])).toEqual([
      ['nip04', 'agent', 'legacy hi'],
      ['note', 'agent', mention.content],
      ['note', 'other', mention.content],
    ]);
    expect(got[1]!.replyTo.rootId).toBe(root);
    expect(receiver.counters.rejected['not-addressed']).toBe(1);
  });

  it('names the parent each message replies to (inReplyTo): NIP-17 rumor e, NIP-04 e, NIP-10 reply marker or last e', async () => {
    const { receiver, got } = setup();
    const parent = 'a'.repeat(64);
    const root = 'b'.repeat(64);
    const mid = 'c'.repeat(64);
    const to = agent.getPublicKey();
    const [threaded] = buildDirectMessage(alice, to, 'nip17 reply', { replyTo: { id: parent } }, entropy);
    const [fresh] = buildDirectMessage(alice, to, 'nip17 new', {}, entropy);
    const k4 = finalizeEvent({ kind: 4, created_at: now, tags: [['p', to], ['e', parent]], content: nip04.encrypt(aliceKey, to, 'nip04 reply') }, aliceKey);
    const note = (content: string, tags: string[][]) => finalizeEvent({ kind: 1, created_at: now, tags: [...tags, ['p', to]], content }, aliceKey);
    const events = [
      threaded!.event,
      fresh!.event,
      k4,
      note('marked', [['e', root, '', 'root'], ['e', parent, '', 'reply']]),
      note('root only', [['e', root, '', 'root']]),
      note('positional', [['e', root], ['e', mid], ['e', parent]]),
      note('mention marker only', [['e', mid, '', 'mention']]),
      note('no e', []),
    ];
    for (const e of events) await receiver.handle(e, 'ws://r');
    expect(got.filter((m) => m.agentPubkey === to).map((m) => [m.text, m.inReplyTo])).toEqual([
      ['nip17 reply', parent],
      ['nip17 new', undefined],
      ['nip04 reply', parent],
      ['marked', parent],
      ['root only', root],
      ['positional', parent],
      ['mention marker only', undefined],
      ['no e', undefined],
    ]);
  });

  it('leaves an event unprocessed when the sink fails, and delivers it on the next try', async () => {
    let fail = true;
    const seen: string[] = [];
    const { receiver } = setup(async (m) => {
      if (fail) throw new Error('disk full');
      seen.push(m.text);
    });
    const [wrap] = buildDirectMessage(alice, agent.getPublicKey(), 'retry me', {}, entropy);
    expect(await receiver.handle(wrap!.event, 'ws://r')).toBe(false);
    expect(getProcessed(db, wrap!.event.id)).toBeUndefined();
    fail = false;
    expect(await receiver.handle(wrap!.event, 'ws://r')).toBe(true);
    expect(seen).toEqual(['retry me']);
    expect(receiver.counters.sinkFailures).toBe(1);
  });

  it('hands the processed mark to the sink with the last message of an event; a sink that wrote it is not marked again', async () => {
    const calls: Array<{ to: string; mark?: SinkOptions['mark'] }> = [];
    const storage = new SqliteAgentStorage((db = openDatabase(':memory:')));
    // This sink records every message and writes the mark itself, as the runtime does in the row's transaction, with its own outcome.
    const receiver = new Receiver({
      storage,
      keys: (p) => (p === agent.getPublicKey() ? agent : p === other.getPublicKey() ? other : undefined),
      hosted: () => [agent.getPublicKey(), other.getPublicKey()],
      sink: async (m, o) => {
        calls.push({ to: m.agentPubkey, ...(o?.mark ? { mark: o.mark } : {}) });
        if (!o?.mark) return false;
        await storage.processed.markProcessed(o.mark.eventId, 'by-sink', 1);
        return true;
      },
    });
    const [wrap] = buildDirectMessage(alice, agent.getPublicKey(), 'one transaction', {}, entropy);
    expect(await receiver.handle(wrap!.event, 'ws://r')).toBe(true);
    expect(calls).toEqual([{ to: agent.getPublicKey(), mark: { eventId: wrap!.event.id, outcome: 'delivered' } }]);
    expect(getProcessed(db, wrap!.event.id)?.outcome).toBe('by-sink');

    // A mention of two hosted agents: two messages, the mark only with the second.
    calls.length = 0;
    const mention = finalizeEvent({ kind: 1, created_at: now, tags: [['p', agent.getPublicKey()], ['p', other.getPublicKey()]], content: 'you two' }, aliceKey);
    expect(await receiver.handle(mention, 'ws://r')).toBe(true);
    expect(calls.map((c) => c.mark?.eventId)).toEqual([undefined, mention.id]);
    expect(getProcessed(db, mention.id)?.outcome).toBe('by-sink');
    expect(await receiver.handle(mention, 'ws://r')).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('marks the event itself when the sink resolves without writing the mark', async () => {
    const { receiver, got } = setup(async (m) => {
      got.push(m);
      return false;
    });
    const [wrap] = buildDirectMessage(alice, agent.getPublicKey(), 'mark it for me', {}, entropy);
    expect(await receiver.handle(wrap!.event, 'ws://r')).toBe(true);
    expect(got).toHaveLength(1);
    expect(getProcessed(db, wrap!.event.id)?.outcome).toBe('delivered');
  });
});

describe('reply builders', () => {
  it('replies to NIP-17 with wraps to the sender and the agent, threaded with the same subject', async () => {
    const { receiver, got } = setup();
    const [wrap] = buildDirectMessage(alice, agent.getPublicKey(), 'q?', { subject: 'S' }, entropy);
    await receiver.handle(wrap!.event, 'ws://r');
    const out = buildReply(got[0]!, 'answer', agent, entropy);
    expect(out.map((o) => o.target)).toEqual([{ type: 'dm', recipient: alice.getPublicKey() }, { type: 'own' }]);
    const opened = unwrapGift(out[0]!.event, alice);
    const mine = unwrapGift(out[1]!.event, agent);
    expect(opened.ok && mine.ok).toBe(true);
    if (!opened.ok || !mine.ok) return;
    expect(opened.rumor.content).toBe('answer');
    expect(opened.rumor.tags).toEqual([['p', alice.getPublicKey()], ['e', got[0]!.rumorId!, 'ws://r', 'reply'], ['subject', 'S']]);
    expect(mine.rumor.id).toBe(opened.rumor.id);
  });

  it('replies to NIP-04 with kind 4 and to a mention with NIP-10 markers', async () => {
    const { receiver, got } = setup();
    const dm = finalizeEvent({ kind: 4, created_at: now, tags: [['p', agent.getPublicKey()]], content: nip04.encrypt(aliceKey, agent.getPublicKey(), 'x') }, aliceKey);
    const root = createRumor({ kind: 1, created_at: now, tags: [], content: 'root' }, mallory.getPublicKey());
    const mention = finalizeEvent({ kind: 1, created_at: now, tags: [['e', root.id, '', 'root', mallory.getPublicKey()], ['p', mallory.getPublicKey()], ['p', agent.getPublicKey()]], content: 'hi' }, aliceKey);
    await receiver.handle(dm, 'ws://r');
    await receiver.handle(mention, 'ws://r');
    const [k4] = buildReply(got[0]!, 'legacy answer', agent, entropy);
    expect(k4!.event.kind).toBe(4);
    expect(nip04.decrypt(aliceKey, agent.getPublicKey(), k4!.event.content)).toBe('legacy answer');
    const [note] = buildReply(got[1]!, 'note answer', agent, entropy);
    expect(note!.event.tags).toEqual([
      ['e', root.id, '', 'root', mallory.getPublicKey()],
      ['e', mention.id, 'ws://r', 'reply', alice.getPublicKey()],
      ['p', alice.getPublicKey()],
      ['p', mallory.getPublicKey()],
    ]);
    expect(note!.target).toEqual({ type: 'relays', relays: ['ws://r'] });
    expect(() => buildReply(got[1]!, 'x', other, entropy)).toThrow(/not the agent/);
  });
});
