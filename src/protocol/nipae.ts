/**
 * Agent identity per the NIP-AE draft: an agent's kind 0 says it is a bot and names its owner
 * (`["bot"]`, `["p", owner]`), and the owner's replaceable kind 14199 lists its agents, so the
 * claim is proven from both sides.
 */
import type { EventTemplate, NostrEvent } from './event.js';
import { Kind } from './kinds.js';

/** The profile fields an agent publishes. */
export interface AgentProfile {
  name: string;
  about?: string;
  picture?: string;
}

/** The agent's kind 0: NIP-24 `"bot": true` in the content, and the NIP-AE tags. */
export function createAgentMetadata(profile: AgentProfile, ownerPubkey: string | undefined, createdAt: number): EventTemplate {
  const content = JSON.stringify({ ...profile, bot: true });
  const tags: string[][] = [['bot']];
  if (ownerPubkey) tags.push(['p', ownerPubkey]);
  return { kind: Kind.Metadata, created_at: createdAt, tags, content };
}

/** The owner's kind 14199 listing every agent pubkey it owns. */
export function createAgentList(agentPubkeys: string[], createdAt: number): EventTemplate {
  return { kind: Kind.AgentList, created_at: createdAt, tags: [...new Set(agentPubkeys)].map((p) => ['p', p]), content: '' };
}

/** True when `agentMeta` (kind 0) and `ownerList` (kind 14199) prove each other. */
export function verifyOwnership(agentMeta: NostrEvent, ownerList: NostrEvent): boolean {
  if (agentMeta.kind !== Kind.Metadata || ownerList.kind !== Kind.AgentList) return false;
  const claimsOwner = agentMeta.tags.some((t) => t[0] === 'p' && t[1] === ownerList.pubkey);
  const listsAgent = ownerList.tags.some((t) => t[0] === 'p' && t[1] === agentMeta.pubkey);
  return claimsOwner && listsAgent;
}
