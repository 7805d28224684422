/**
 * Relay selection for an outbox row: a DM goes to the recipient's 10050 DM relays if published, else
 * their 10002 read relays, else the agent's own; everything also goes to the agent's own relays.
 */
import { normalizeRelayUrl } from '../protocol/relay-url.js';
import type { OutboxEntry } from '../storage/types.js';
import type { RelayListResolver } from './types.js';

/** The deduplicated relay URLs an outbox row should be published to. */
export async function resolveTargetRelays(
  row: Pick<OutboxEntry, 'agentPubkey' | 'target'>,
  lists: RelayListResolver,
  ownRelays: (agentPubkey: string) => string[],
  signal?: AbortSignal,
): Promise<string[]> {
  const out: string[] = [];
  const target = row.target;
  if (target.type === 'dm') {
    const theirs = await lists.get(target.recipient, { signal }).catch(() => ({}) as Awaited<ReturnType<RelayListResolver['get']>>);
    out.push(...(theirs.dm?.length ? theirs.dm : (theirs.read ?? [])));
  } else if (target.type === 'relays') {
    out.push(...target.relays);
  }
  out.push(...ownRelays(row.agentPubkey));
  const urls = out.map((u) => normalizeRelayUrl(u)).filter((u): u is string => u !== undefined);
  return [...new Set(urls)];
}
