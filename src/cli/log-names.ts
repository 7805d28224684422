/**
 * A Logger decorator for the daemon: records whose `agent` field is a hosted agent's hex public key
 * get the agent's name there instead, and the key in `agentPubkey`, so every log line names agents
 * the same way (the runtime knows keys, the operator knows names).
 */
import type { Logger } from '../util/logger.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** Wraps `inner`; `nameOf` answers the name of a hosted agent's pubkey, or undefined. */
export function namingAgents(inner: Logger, nameOf: (pubkey: string) => string | undefined): Logger {
  return {
    log(record) {
      const agent = record.agent;
      if (typeof agent === 'string' && HEX64.test(agent)) {
        const name = nameOf(agent);
        if (name !== undefined) return inner.log({ ...record, agent: name, agentPubkey: agent });
      }
      inner.log(record);
    },
  };
}
