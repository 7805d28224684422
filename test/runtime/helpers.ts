/**
 * Fixtures for runtime and behavior tests: a real SQLite file in a temp dir, NIP-06 keys from the
 * spec's mnemonic, a ManualClock, and readers that open what the engine queued in the outbox
 * (real gift wraps unwrapped with the recipient's key).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { deriveFromSeed, mnemonicToSeed } from '../../src/protocol/nip06.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import type { InboundMessage } from '../../src/relay/types.js';
import { Runtime, type RuntimeOptions } from '../../src/runtime/engine.js';
import type { AgentBehavior } from '../../src/runtime/types.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import type { AgentRecord, OutboxEntry } from '../../src/storage/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { ArrayLogger } from '../../src/util/logger.js';
import { builtinBehaviors } from '../../src/behaviors/index.js';
import { loadVectors, type Nip06Vectors } from '../helpers/vectors.js';

/** 2023-11-14T22:13:20Z: mid-day UTC, so a day boundary is far unless a test moves there. */
export const T0 = 1_700_000_000_000;

const seed = mnemonicToSeed(loadVectors<Nip06Vectors>('nip06.vectors.json').vectors[0]!.mnemonic);
const signers = new Map<number, SecretKeySigner>();

/** The NIP-06 signer of an account (0 = owner, n + 1 = agent n). */
export function accountSigner(account: number): SecretKeySigner {
  let s = signers.get(account);
  if (!s) {
    s = new SecretKeySigner(deriveFromSeed(seed, account).secretKey);
    signers.set(account, s);
  }
  return s;
}

/** The owner's signer (account 0). */
export const owner = accountSigner(0);

/** A stranger with a fixed key (byte repeated). */
export function stranger(byte: number): SecretKeySigner {
  return new SecretKeySigner(hexToBytes(byte.toString(16).padStart(2, '0').repeat(32)));
}

let counter = 0;
/** A fresh 64-hex id (unique per call; deterministic across runs). */
export function freshId(): string {
  counter += 1;
  return bytesToHex(new TextEncoder().encode(`id-${counter}`.padEnd(32, '.'))).slice(0, 64);
}

/** An inbound message as the receiver hands it over (already authenticated). */
export function inbound(agent: AgentRecord | string, from: SecretKeySigner | string, text: string, extra: Partial<InboundMessage> = {}): InboundMessage {
  const agentPubkey = typeof agent === 'string' ? agent : agent.pubkey;
  const sender = typeof from === 'string' ? from : from.getPublicKey();
  const eventId = freshId();
  const protocol = extra.protocol ?? 'nip17';
  // As the receiver builds it: a NIP-17 reply threads to the rumor, the others to the event itself.
  const rumorId = protocol === 'nip17' ? freshId() : undefined;
  return {
    kind: 'dm',
    protocol,
    agentPubkey,
    sender,
    text,
    eventId,
    ...(rumorId ? { rumorId } : {}),
    replyTo: { parentId: rumorId ?? eventId, participants: [sender] },
    createdAt: Math.floor(T0 / 1000),
    relay: 'ws://127.0.0.1:1',
    ...extra,
  };
}

/** Polls `check` (real time) until it is truthy; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A promise with its resolver, for behaviors that must wait for the test. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** One test's storage, clock and runtime; `close()` stops and deletes everything. */
export class RuntimeFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'runtime-test-'));
  readonly file = join(this.dir, 'agents.db');
  readonly clock = new ManualClock(T0);
  readonly logger = new ArrayLogger();
  storage = SqliteAgentStorage.open(this.file, { clock: this.clock });
  readonly runtimes: Runtime[] = [];
  readonly behaviors = builtinBehaviors();

  /** A runtime over this fixture's storage (started). */
  async runtime(options: Partial<RuntimeOptions> = {}): Promise<Runtime> {
    const runtime = new Runtime({
      storage: this.storage,
      signerFor: (index) => accountSigner(index + 1),
      ownerPubkey: owner.getPublicKey(),
      behaviors: this.behaviors,
      clock: this.clock,
      logger: this.logger,
      ...options,
    });
    this.runtimes.push(runtime);
    await runtime.start();
    return runtime;
  }

  /** Registers a behavior under its name. */
  define(behavior: AgentBehavior): void {
    this.behaviors.set(behavior.name, behavior);
  }

  /** Creates an agent through the runtime and waits until its create tick made it active. */
  async agent(runtime: Runtime, name: string, behavior: string, config: Record<string, unknown> = {}): Promise<AgentRecord> {
    const record = await runtime.create({ name, behavior, config });
    await waitFor(`${name} active`, async () => (await this.storage.agents.get(record.index))?.state === 'active');
    return (await this.storage.agents.get(record.index))!;
  }

  /** Simulates a crash: the runtime is abandoned (no stop) and the database reopened from its file. */
  reopen(): SqliteAgentStorage {
    this.storage = SqliteAgentStorage.open(this.file, { clock: this.clock });
    return this.storage;
  }

  /** Outbox rows of an agent. */
  outbox(agent: AgentRecord): Promise<OutboxEntry[]> {
    return this.storage.outbox.list({ agentPubkey: agent.pubkey });
  }

  /** Texts of the NIP-17 DMs queued for `recipient` (unwrapped with its key), oldest first. */
  async dmsTo(recipient: SecretKeySigner, agent?: AgentRecord): Promise<string[]> {
    return (await this.storage.outbox.list(agent ? { agentPubkey: agent.pubkey } : {}))
      .filter((e) => e.event.kind === 1059 && e.target.type === 'dm' && e.target.recipient === recipient.getPublicKey())
      .sort((a, b) => a.id - b.id)
      .map((e) => {
        const opened = unwrapGift(e.event, recipient);
        if (!opened.ok) throw new Error(`wrap did not open: ${opened.reason}`);
        return opened.rumor.content;
      });
  }

  /** Rumors (with tags) of NIP-17 DMs queued for `recipient`. */
  async rumorsTo(recipient: SecretKeySigner): Promise<Array<{ pubkey: string; content: string; tags: string[][] }>> {
    return (await this.storage.outbox.list())
      .filter((e) => e.event.kind === 1059 && e.target.type === 'dm' && e.target.recipient === recipient.getPublicKey())
      .sort((a, b) => a.id - b.id)
      .map((e) => {
        const opened = unwrapGift(e.event, recipient);
        if (!opened.ok) throw new Error(`wrap did not open: ${opened.reason}`);
        return opened.rumor;
      });
  }

  /** Non-wrap events the agent queued (kind 1 and kind 4). */
  async plainEvents(agent: AgentRecord): Promise<NostrEvent[]> {
    return (await this.outbox(agent))
      .filter((e) => e.event.kind !== 1059)
      .map((e) => e.event);
  }

  async close(): Promise<void> {
    const abort = AbortSignal.abort();
    for (const r of this.runtimes) {
      try {
        await r.stop({ signal: abort });
      } catch {
        // a runtime whose database was closed under it (a simulated crash)
      }
    }
    await this.storage.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
