/** NIP-27 references in content: `nostr:npub1…` and `nostr:nprofile1…` mentions of a profile. */
import * as nip19 from 'nostr-tools/nip19';

const PROFILE_REF = /nostr:((?:npub|nprofile)1[02-9ac-hj-np-z]+)/g;

/** The pubkeys referenced in `content`, in order of first appearance; undecodable references are skipped. */
export function profileReferences(content: string): string[] {
  const out = new Set<string>();
  for (const match of content.matchAll(PROFILE_REF)) {
    try {
      const decoded = nip19.decode(match[1] as string);
      if (decoded.type === 'npub') out.add(decoded.data);
      else if (decoded.type === 'nprofile') out.add(decoded.data.pubkey);
    } catch {
      // Not valid bech32 (e.g. truncated): not a reference.
    }
  }
  return [...out];
}
