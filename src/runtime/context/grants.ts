/**
 * What a tick may reach beyond itself: the tool capabilities a behavior's tool loop gets (never
 * more than the config grants), and whom `delegate` may name (an agent of this home or a key).
 * Both the behavior's `ctx.delegate` and the tool loop's `delegate` resolve targets here, so the
 * two agree on what a target is.
 */
import { parsePublicKey } from '../../protocol/nip19.js';
import { entryCovers } from '../../think/mcp/names.js';
import type { ToolCapabilities } from '../../think/tools/types.js';
import type { ContextParams } from './params.js';

/** Grants at most what the config grants: a requested list narrows it. */
export function narrowCapabilities(granted: ToolCapabilities, requested: ToolCapabilities | undefined): ToolCapabilities {
  if (!requested) return { tools: [...granted.tools], httpAllow: [...granted.httpAllow], dmAllow: [...granted.dmAllow] };
  const within = (ask: string[], have: string[]): string[] => ask.filter((x) => have.includes(x));
  let dmAllow: string[];
  if (granted.dmAllow.length === 0) dmAllow = [...requested.dmAllow];
  else if (requested.dmAllow.length === 0) dmAllow = [...granted.dmAllow];
  else {
    dmAllow = within(requested.dmAllow, granted.dmAllow);
    // An empty list would mean "anyone": nothing in common must allow no one.
    if (dmAllow.length === 0) dmAllow = ['(none)'];
  }
  // A grant of `server.*` covers a narrower `server.tool`; never the other way round.
  const tools = requested.tools.filter((t) => granted.tools.some((g) => entryCovers(g, t)));
  return { tools, httpAllow: within(requested.httpAllow, granted.httpAllow), dmAllow };
}

/** A delegate target as a hex key (and its name when given one); TypeError naming what was wrong. */
export async function resolveTarget(p: Pick<ContextParams, 'resolveAgent'>, target: string): Promise<{ pubkey: string; name?: string }> {
  const ref = typeof target === 'string' ? target.trim() : '';
  if (!ref) throw new TypeError('delegate: target must be a public key or an agent name');
  const byName = await p.resolveAgent(ref);
  if (byName) return byName;
  try {
    return { pubkey: parsePublicKey(ref) };
  } catch (error) {
    throw new TypeError(`delegate: "${ref.slice(0, 80)}" is neither an agent of this home nor a public key`, { cause: error });
  }
}

/** A dmAllow entry as a hex key, or undefined when it is a name (or not a key at all). */
export function safeKey(entry: string): string | undefined {
  try {
    return parsePublicKey(entry);
  } catch {
    return undefined;
  }
}
