/** Fetches a relay's NIP-11 information document (for its subscription limits). Failures are not fatal. */
import { RelayInfoSchema, relayInfoUrl, type RelayInfo } from '../protocol/nip11.js';

/** The relay's information document, or undefined when it does not serve a valid one within `timeoutMs`. */
export async function fetchRelayInfo(relayUrl: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RelayInfo | undefined> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 3000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const res = await fetch(relayInfoUrl(relayUrl), { headers: { accept: 'application/nostr+json' }, signal });
    if (!res.ok) return undefined;
    const text = await res.text();
    if (text.length > 256 * 1024) return undefined;
    const parsed = RelayInfoSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
