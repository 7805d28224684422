/**
 * What makes an agent reachable by ordinary clients: kind 0 (with `"bot": true` and the NIP-AE owner
 * tags), kind 10002 (NIP-65) and kind 10050 (NIP-17 DM relays); and the owner's kind 14199 agent list.
 * `syncProfile` publishes through the outbox only what differs from what the relays already have.
 */
import type { EventTemplate, NostrEvent } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import { createDmRelayList } from '../protocol/nip17.js';
import { createRelayList } from '../protocol/nip65.js';
import { createAgentList, createAgentMetadata, type AgentProfile } from '../protocol/nipae.js';
import type { Signer } from '../signer/types.js';
import type { AgentStorage } from '../storage/types.js';
import type { WsRelayPool } from './relay-pool.js';

/** An agent's public face. */
export interface AgentProfileSpec {
  profile: AgentProfile;
  ownerPubkey?: string;
  relays: { read: string[]; write: string[]; dm: string[] };
}

/** The three replaceable events an agent publishes, unsigned. */
export function agentProfileTemplates(spec: AgentProfileSpec, createdAt: number): EventTemplate[] {
  return [
    createAgentMetadata(spec.profile, spec.ownerPubkey, createdAt),
    createRelayList({ read: spec.relays.read, write: spec.relays.write }, createdAt),
    createDmRelayList(spec.relays.dm, createdAt),
  ];
}

/** The owner's kind 14199 template listing its agents. */
export function ownerAgentListTemplate(agentPubkeys: string[], createdAt: number): EventTemplate {
  return createAgentList(agentPubkeys, createdAt);
}

/** True when the published `current` already says what `template` says (kind 0 compared as JSON). */
export function sameAs(template: EventTemplate, current: NostrEvent | undefined): boolean {
  if (!current) return false;
  if (template.kind === Kind.Metadata) {
    try {
      return JSON.stringify(JSON.parse(current.content)) === JSON.stringify(JSON.parse(template.content)) && JSON.stringify(current.tags) === JSON.stringify(template.tags);
    } catch {
      return false;
    }
  }
  return current.content === template.content && JSON.stringify(current.tags) === JSON.stringify(template.tags);
}

/** What `syncProfile` needs. Times: `now` in ms; the outbox gives up after `giveUpAfterMs` [1 day]. */
export interface SyncProfileOptions {
  pool: Pick<WsRelayPool, 'fetch'>;
  /** Where the signed events are queued (the outbox of the storage seam). */
  storage: Pick<AgentStorage, 'outbox'>;
  signer: Signer;
  templates: EventTemplate[];
  /** Where to compare and publish. */
  relays: string[];
  now: number;
  giveUpAfterMs?: number;
  signal?: AbortSignal;
}

/**
 * Signs and enqueues each template whose published version (newest on `relays`) differs; returns
 * the enqueued event ids. The caller wakes the outbox publisher.
 */
export async function syncProfile(options: SyncProfileOptions): Promise<string[]> {
  const me = options.signer.getPublicKey();
  const kinds = [...new Set(options.templates.map((t) => t.kind))];
  const existing = await options.pool.fetch([{ kinds, authors: [me] }], { relays: options.relays, signal: options.signal ?? AbortSignal.timeout(5000) });
  const ids: string[] = [];
  for (const template of options.templates) {
    const current = existing.filter((e) => e.kind === template.kind && e.pubkey === me).sort((a, b) => b.created_at - a.created_at)[0];
    if (sameAs(template, current)) continue;
    const createdAt = Math.max(template.created_at, (current?.created_at ?? 0) + 1);
    const event = options.signer.signEvent({ ...template, created_at: createdAt });
    await options.storage.outbox.enqueue({
      agentPubkey: me,
      event,
      target: { type: 'relays', relays: options.relays },
      // Nobody waits for a profile: it must not go ahead of a reply.
      lane: 'background',
      now: options.now,
      deadlineAt: options.now + (options.giveUpAfterMs ?? 86_400_000),
    });
    ids.push(event.id);
  }
  return ids;
}
