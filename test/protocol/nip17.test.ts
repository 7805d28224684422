import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/protocol/hex.js';
import { createChatRumor, createDmRelayList, parseChatRumor, parseDmRelayList, wrapForRecipients } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';

const alice = new SecretKeySigner(hexToBytes('0beebd062ec8735f4243466049d7747ef5d6594ee838de147f8aab842b15e273'));
const bob = new SecretKeySigner(hexToBytes('e108399bd8424357a710b606ae0c13166d853d327e47a6e5e038197346bdbf45'));
const carol = new SecretKeySigner(hexToBytes('5c0c523f52a5b6fad39ed2403092df8cebc36318b39383bca6c00808626fab3a'));

describe('NIP-17 chat messages', () => {
  it('wraps one copy per recipient plus one to the sender, each opening to the same rumor', () => {
    let n = 0;
    const entropy = { now: 1_700_000_000, random: () => 0.25, newWrapKey: () => hexToBytes((++n).toString(16).padStart(64, '0')) };
    const parent = 'ab'.repeat(32);
    const rumor = createChatRumor(alice.getPublicKey(), {
      recipients: [bob.getPublicKey(), carol.getPublicKey()],
      content: 'lunch?',
      subject: 'plans',
      replyTo: { id: parent, relay: 'wss://r.example' },
      createdAt: 1_700_000_000,
    });
    const wraps = wrapForRecipients(rumor, alice, [bob.getPublicKey(), carol.getPublicKey()], entropy);
    expect(wraps.map((w) => w.tags[0]?.[1])).toEqual([bob.getPublicKey(), carol.getPublicKey(), alice.getPublicKey()]);
    expect(new Set(wraps.map((w) => w.pubkey)).size).toBe(3);
    for (const [wrap, who] of [[wraps[0], bob], [wraps[1], carol], [wraps[2], alice]] as const) {
      const opened = unwrapGift(wrap!, who);
      expect(opened.ok).toBe(true);
      if (!opened.ok) continue;
      expect(opened.rumor.id).toBe(rumor.id);
      const msg = parseChatRumor(opened.rumor);
      expect(msg).toEqual({
        kind: 14,
        text: 'lunch?',
        subject: 'plans',
        parentId: parent,
        participants: [alice.getPublicKey(), bob.getPublicKey(), carol.getPublicKey()],
      });
    }
  });

  it('does not wrap to the sender when told not to, and refuses non-chat rumors', () => {
    const rumor = createChatRumor(alice.getPublicKey(), { recipients: [bob.getPublicKey()], content: 'x', createdAt: 1 });
    const wraps = wrapForRecipients(rumor, alice, [bob.getPublicKey()], { now: 10, random: () => 0, newWrapKey: () => hexToBytes('11'.repeat(32)) }, false);
    expect(wraps).toHaveLength(1);
    expect(rumor.tags).toEqual([['p', bob.getPublicKey()]]);
    expect(() => parseChatRumor({ ...rumor, kind: 1 })).toThrow(/not a chat message/);
  });

  it('writes and reads kind 10050 DM relay lists, skipping bad URLs', () => {
    const tpl = createDmRelayList(['wss://a.example', 'ws://127.0.0.1:7777'], 5);
    expect(tpl).toEqual({ kind: 10050, created_at: 5, content: '', tags: [['relay', 'wss://a.example'], ['relay', 'ws://127.0.0.1:7777']] });
    expect(parseDmRelayList({ kind: 10050, tags: [...tpl.tags, ['relay', 'https://x'], ['relay', 'WSS://A.example/'], ['r', 'wss://b']] })).toEqual([
      'wss://a.example',
      'ws://127.0.0.1:7777',
    ]);
    expect(() => parseDmRelayList({ kind: 3, tags: [] })).toThrow(/not a DM relay list/);
  });
});
