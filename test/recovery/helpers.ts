/** Fixtures for recovery tests: agent keys from the test mnemonic and a plausible whole-agent snapshot. */
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import type { AgentSnapshot } from '../../src/recovery/format.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { TEST_MNEMONIC } from '../helpers/daemon.js';

const seed = mnemonicToSeed(TEST_MNEMONIC);

/** The signer of NIP-06 account `account` of the test mnemonic (0 = owner, n + 1 = agent n). */
export function accountSigner(account: number): SecretKeySigner {
  return new SecretKeySigner(deriveFromSeed(seed, account).secretKey);
}

/** The secret key of account `account` (for events a Signer would not sign as-is). */
export function accountSecret(account: number): Uint8Array {
  return deriveFromSeed(seed, account).secretKey;
}

/** A snapshot of agent `index` with `facts` facts of about `factBytes` bytes each. */
export function sampleSnapshot(index: number, options: { facts?: number; factBytes?: number; now?: number } = {}): AgentSnapshot {
  const now = options.now ?? Date.parse('2026-01-10T10:00:00Z');
  const signer = accountSigner(index + 1);
  const owner = accountSigner(0).getPublicKey();
  const facts = Array.from({ length: options.facts ?? 3 }, (_, i) => ({
    text: `fact ${i}: ${'ü'.repeat(Math.max(0, Math.floor((options.factBytes ?? 40) / 2) - 10))} café`,
    tags: i % 2 ? ['even'] : [],
    createdAt: now - 1000 + i,
  }));
  return {
    agent: { name: `bot${index}`, index, account: index + 1, pubkey: signer.getPublicKey(), behavior: 'assistant', state: 'dormant', config: { behavior: 'assistant', relays: ['ws://127.0.0.1:1'] }, createdAt: now - 10_000, stripped: [] },
    kv: [{ key: 'prefs', value: { tea: 'green' } }],
    facts,
    goals: [{ text: 'buy tea', status: 'open', createdAt: now - 500, updatedAt: now - 500 }],
    peers: [{ pubkey: owner, firstSeen: now - 900, lastSeen: now - 100, messageCount: 2, trust: 'owner' }],
    messages: [
      { peer: owner, direction: 'in', text: 'hi', eventId: 'a'.repeat(64), at: now - 200 },
      { peer: owner, direction: 'out', text: 'hello', at: now - 100 },
    ],
    schedules: [{ spec: { type: 'at', at: now + 30_000 }, payload: { text: 'water the plants' }, nextAt: now + 30_000, createdAt: now - 50 }],
    state: {
      budget: { day: '2026-01-10', computeMs: 120, llmCalls: 0, tokens: 0, sats: 0, notified80: [], notified100: [] },
      trajectory: { chain: { lastId: 'b'.repeat(64), lastSeq: 4, session: null }, head: { startedAt: now - 150, endedAt: now - 100, trigger: 'dm', outcome: 'ok' } },
      cursors: [{ relay: 'ws://127.0.0.1:1', cursor: Math.floor(now / 1000) }],
    },
    seen: ['a'.repeat(64)],
  };
}
