/**
 * Who may reach an agent: the DM policy (open | allowlist | owner-only) and per-sender rate
 * limits, decided once when a message arrives, before it becomes a pending trigger. The owner is
 * never refused or limited, so `/resume` and `/budget` always get through.
 */
import type { DmPolicy } from './agent-config.js';
import type { RateLimitConfig, RateLimiter } from './rate-limit.js';

/** What to do with an inbound message. */
export type InboundVerdict =
  | { action: 'accept' }
  | { action: 'refuse'; reason: string }
  | { action: 'rate-limited'; notify: boolean; retryAfterMs: number };

/** The inputs of a policy decision. */
export interface PolicyInput {
  agentPubkey: string;
  sender: string;
  ownerPubkey: string;
  policy: DmPolicy;
  allowlist: readonly string[];
  rateLimit: RateLimitConfig;
  now: number;
}

/** True when the policy lets `sender` reach the agent at all. */
export function allowedByPolicy(policy: DmPolicy, sender: string, ownerPubkey: string, allowlist: readonly string[]): boolean {
  if (sender === ownerPubkey) return true;
  if (policy === 'open') return true;
  if (policy === 'allowlist') return allowlist.includes(sender);
  return false;
}

/** Applies the policy, then the sender's token bucket (keyed per agent and sender). */
export function decideInbound(input: PolicyInput, limiter: RateLimiter): InboundVerdict {
  if (input.sender === input.ownerPubkey) return { action: 'accept' };
  if (!allowedByPolicy(input.policy, input.sender, input.ownerPubkey, input.allowlist)) {
    return { action: 'refuse', reason: input.policy === 'owner-only' ? 'policy: owner-only' : 'policy: sender not on the allowlist' };
  }
  const decision = limiter.take(`${input.agentPubkey}:${input.sender}`, input.rateLimit, input.now);
  if (decision.allowed) return { action: 'accept' };
  return { action: 'rate-limited', notify: decision.notify, retryAfterMs: decision.retryAfterMs };
}

/** The polite notice a rate-limited sender gets, at most once per window. */
export function slowDownText(retryAfterMs: number): string {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return `You are sending messages faster than I can take them. Please slow down; I will read new messages again in about ${seconds} s.`;
}

/** The commands only the owner's key may give, in a DM starting with the command. */
export type OwnerCommand = 'pause' | 'resume' | 'status' | 'budget';

const COMMANDS: readonly OwnerCommand[] = ['pause', 'resume', 'status', 'budget'];

/** `/pause`, `/resume`, `/status`, `/budget` (case-insensitive, surrounding space ignored), else undefined. */
export function parseOwnerCommand(text: string): OwnerCommand | undefined {
  const m = /^\s*\/([a-z]+)\s*$/i.exec(text);
  const word = m?.[1]?.toLowerCase();
  return (COMMANDS as readonly string[]).includes(word ?? '') ? (word as OwnerCommand) : undefined;
}
