import { describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/protocol/event.js';
import { verifyEvent } from '../../src/protocol/crypto.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { MAX_EVENT_BYTES } from '../../src/relay/reply-parts.js';
import { MAX_ROOM_RECIPIENTS, buildDirectMessage, buildNote, buildReply } from '../../src/relay/reply.js';
import type { InboundMessage } from '../../src/relay/types.js';
import { errorCode, isInputFault } from '../../src/util/errors.js';
import { signerOf } from './helpers.js';

const agent = signerOf(0x11);
const alice = signerOf(0xa1);
const NOW = 1_700_000_000;
const bytes = (e: NostrEvent): number => new TextEncoder().encode(JSON.stringify(e)).length;
const unlabel = (part: string): string => part.replace(/^\[\d+\/\d+\] /, '');
const hex = (n: number): string => n.toString(16).padStart(64, '0');

function message(protocol: InboundMessage['protocol'], extra: Partial<InboundMessage> = {}): InboundMessage {
  return {
    kind: protocol === 'note' ? 'mention' : 'dm',
    protocol,
    agentPubkey: agent.getPublicKey(),
    sender: alice.getPublicKey(),
    text: 'hi',
    eventId: hex(1),
    replyTo: { parentId: hex(2), participants: [alice.getPublicKey()], relay: 'ws://127.0.0.1:7000' },
    createdAt: NOW,
    relay: 'ws://127.0.0.1:7000',
    ...extra,
  };
}

/** Thrown by `fn`, or a failure naming that nothing was. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('replies too long for one event', () => {
  it('a 40 KB NIP-17 reply goes as several wraps, each within 64 KiB, to the sender and to the agent, in order', () => {
    const text = `echo: ${'lorem ipsum '.repeat(3400)}`; // 40,806 bytes
    const events = buildReply(message('nip17'), text, agent, { now: NOW });
    expect(events.every((o) => bytes(o.event) <= MAX_EVENT_BYTES && verifyEvent(o.event))).toBe(true);
    const toAlice = events.filter((o) => o.target.type === 'dm').map((o) => unwrapGift(o.event, alice));
    const own = events.filter((o) => o.target.type === 'own').map((o) => unwrapGift(o.event, agent));
    expect(toAlice.length).toBe(2);
    expect(own.length).toBe(2);
    const rumors = toAlice.map((r) => (r.ok ? r.rumor : undefined)!);
    expect(rumors.map((r) => r.content.slice(0, 6))).toEqual(['[1/2] ', '[2/2] ']);
    expect(rumors[0]!.created_at).toBeLessThan(rumors[1]!.created_at);
    expect(rumors.map((r) => unlabel(r.content)).join('')).toBe(text);
    expect(rumors.every((r) => r.tags.some((t) => t[0] === 'e' && t[1] === hex(2)))).toBe(true);
  });

  it('a long NIP-17 reply in a room: each part wrapped to each participant by name, then the agent\'s own copies, parts in order', () => {
    const carol = signerOf(0xc3);
    const text = `echo: ${'lorem ipsum '.repeat(3400)}`;
    const room = message('nip17', { replyTo: { parentId: hex(2), participants: [alice.getPublicKey(), carol.getPublicKey()], relay: 'ws://127.0.0.1:7000' } });
    const events = buildReply(room, text, agent, { now: NOW });
    const reader = new Map([[alice.getPublicKey(), alice], [carol.getPublicKey(), carol]]);
    const opened = events.map((o) => {
      const who = o.target.type === 'dm' ? reader.get(o.target.recipient)! : agent;
      const r = unwrapGift(o.event, who);
      return { to: o.target.type === 'dm' ? o.target.recipient : 'own', part: r.ok ? r.rumor.content.slice(0, 6) : 'unopened' };
    });
    const [a, c] = [alice.getPublicKey(), carol.getPublicKey()];
    expect(opened).toEqual([
      { to: a, part: '[1/2] ' }, { to: c, part: '[1/2] ' }, { to: a, part: '[2/2] ' }, { to: c, part: '[2/2] ' },
      { to: 'own', part: '[1/2] ' }, { to: 'own', part: '[2/2] ' },
    ]);
  });

  it('a 60 KB NIP-04 reply goes as several kind 4s within 64 KiB that decrypt to the text', () => {
    const text = `echo: ${'€'.repeat(20_000)}`; // 60,006 bytes
    const events = buildReply(message('nip04'), text, agent, { now: NOW });
    expect(events.length).toBe(2);
    expect(events.every((o) => o.event.kind === 4 && bytes(o.event) <= MAX_EVENT_BYTES)).toBe(true);
    expect(events.map((o) => unlabel(alice.nip04.decrypt(agent.getPublicKey(), o.event.content))).join('')).toBe(text);
  });

  it('a long kind 1 reply or note is several notes within 64 KiB', () => {
    const text = '"quoted"\n'.repeat(8000);
    const replies = buildReply(message('note'), text, agent, { now: NOW });
    const notes = buildNote(agent, text, { now: NOW });
    for (const events of [replies, notes]) {
      expect(events.length).toBeGreaterThan(1);
      expect(events.every((o) => bytes(o.event) <= MAX_EVENT_BYTES)).toBe(true);
      expect(events.map((o) => unlabel(o.event.content)).join('')).toBe(text);
    }
  });

  it('a short reply stays one event without a label', () => {
    const [event] = buildReply(message('nip04'), 'echo: hi', agent, { now: NOW });
    expect(alice.nip04.decrypt(agent.getPublicKey(), event!.event.content)).toBe('echo: hi');
  });
});

describe('messages whose own tags make an answer impossible are input faults', () => {
  it('a huge subject, a crowd of participants, a huge relay hint in a thread', () => {
    const subject = thrown(() => buildReply(message('nip17', { subject: 's'.repeat(60_000) }), 'ok', agent, { now: NOW }));
    expect([errorCode(subject), isInputFault(subject)]).toEqual(['INPUT_TOO_LARGE', true]);
    const crowd = Array.from({ length: MAX_ROOM_RECIPIENTS + 1 }, (_, i) => hex(1000 + i));
    const room = thrown(() => buildReply(message('nip17', { replyTo: { parentId: hex(2), participants: crowd } }), 'ok', agent, { now: NOW }));
    expect(errorCode(room)).toBe('INPUT_TOO_LARGE');
    const parentEvent = { id: hex(2), pubkey: alice.getPublicKey(), kind: 1, tags: [['e', hex(3), 'wss://'.padEnd(70_000, 'x'), 'root']] };
    const thread = thrown(() => buildReply(message('note', { replyTo: { parentId: hex(2), participants: [], parentEvent } }), 'ok', agent, { now: NOW }));
    expect(errorCode(thread)).toBe('INPUT_TOO_LARGE');
  });

  it('a DM dated in advance (a delegation) that needs two wraps is the behavior’s fault, not input', () => {
    const error = thrown(() => buildDirectMessage(agent, alice.getPublicKey(), 'd'.repeat(40_000), { createdAt: NOW }, { now: NOW }));
    expect([errorCode(error), isInputFault(error)]).toEqual(['BEHAVIOR_FAILED', false]);
  });
});
