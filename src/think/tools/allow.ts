/** Capability checks shared by the tools: DM targets and HTTP hosts against the agent's allowlists. */
import { parsePublicKey } from '../../protocol/nip19.js';
import { ToolInputError, ToolRefusedError } from './types.js';

/** A hex public key from hex/npub/nprofile, or a ToolInputError saying what was wrong. */
export function publicKeyArg(value: string): string {
  try {
    return parsePublicKey(value);
  } catch (cause) {
    throw new ToolInputError((cause as Error).message, { cause });
  }
}

/** Refuses unless `pubkey` is on `dmAllow` (an empty list allows anyone). Bad list entries are ignored. */
export function checkDmAllowed(pubkey: string, dmAllow: string[]): void {
  if (dmAllow.length === 0) return;
  for (const entry of dmAllow) {
    try {
      if (parsePublicKey(entry) === pubkey) return;
    } catch {
      // a malformed entry allows nothing
    }
  }
  throw new ToolRefusedError(`messaging ${pubkey.slice(0, 12)}… is not allowed: the agent's dmAllow list does not include it`);
}

/**
 * True when `url`'s host is on the allowlist: `example.org` matches exactly, `*.example.org` any
 * subdomain (not the apex), and an entry with a port (`127.0.0.1:8080`) only that port.
 */
export function isHostAllowed(url: URL, allow: string[]): boolean {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allow.some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (!entry) return false;
    const { name, entryPort } = splitEntry(entry);
    if (entryPort !== undefined && entryPort !== port) return false;
    if (name.startsWith('*.')) return host.endsWith(name.slice(1)) && host.length > name.length - 1;
    return host === name;
  });
}

function splitEntry(entry: string): { name: string; entryPort?: string } {
  // [::1]:8080, [::1], host:port, host
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracket) return { name: `[${bracket[1]}]`, ...(bracket[2] ? { entryPort: bracket[2] } : {}) };
  const m = /^([^:]+):(\d+)$/.exec(entry);
  if (m) return { name: m[1]!, entryPort: m[2]! };
  return { name: entry };
}
