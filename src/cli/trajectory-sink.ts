/**
 * The runtime's TrajectorySink: each committed tick becomes a signed tick event (NIP-44 to the owner
 * unless the agent is public) chained to the previous one, plus the day's session event, queued in
 * the outbox in the tick's own transaction. The chain head is kept per agent in the seam's
 * chainHeads store, out of reach of the agent's code (its kv is the behavior's to write).
 */
import type { TrajectorySink } from '../runtime/types.js';
import { emptyChain, parseChain } from '../trajectory/chain.js';
import { configSecrets } from '../think/mcp/env.js';
import { trajectoryEvents } from '../trajectory/publish.js';

const DEADLINE_MS = 3 * 24 * 3600 * 1000;

/** Builds the sink. `knownSecrets` are redacted wherever they appear (API keys). */
export function createTrajectorySink(options: { ownerPubkey: string; knownSecrets?: string[] }): TrajectorySink {
  return {
    // Every write goes through the tick's transaction handle: chain head, outbox rows and the
    // published mark commit with the tick, or none does.
    async record({ tx, tick, agent, signer, config, now }) {
      const stored = await tx.chainHeads.get(agent.index);
      const chain = stored === undefined ? emptyChain() : parseChain(stored);
      const out = trajectoryEvents(tick, chain, {
        signer,
        ownerPubkey: options.ownerPubkey,
        visibility: config.publicTrajectories ? 'public' : 'private',
        // The agent's own API key and its MCP servers' env and header values are redacted too, besides the daemon-wide ones.
        knownSecrets: [...(options.knownSecrets ?? []), ...(config.llm?.apiKey ? [config.llm.apiKey] : []), ...configSecrets(Object.values(config.mcp))],
      });
      // Three independent writes (both events' rows in one call), issued in this order without
      // waiting for each: on PostgreSQL three statements in one round trip (the first failure, in
      // this order, is the one thrown).
      await Promise.all([
        tx.outbox.enqueueMany([out.tick, out.session].map((event) => ({ agentPubkey: agent.pubkey, event, target: { type: 'own' } as const, now, deadlineAt: now + DEADLINE_MS }))),
        tx.chainHeads.set(agent.index, out.chain),
        tx.ticks.markPublished(agent.index, tick.seq, out.tick.id, now),
      ]);
    },
  };
}
