/** Relay URLs: one normal form so the same relay is not counted twice (`wss://A.com/` = `wss://a.com`). */

/** The normal form of a ws(s) URL (lowercase host, no trailing slash on an empty path), or undefined if not one. */
export function normalizeRelayUrl(input: string): string | undefined {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return undefined;
  if (url.username || url.password) return undefined;
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** Like `normalizeRelayUrl` but throws an error naming the bad value. */
export function parseRelayUrl(input: string): string {
  const url = normalizeRelayUrl(input);
  if (!url) throw new Error(`not a relay URL (expected ws:// or wss://): ${input.slice(0, 80)}`);
  return url;
}
