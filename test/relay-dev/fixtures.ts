/** Shared fixtures for relay-dev tests: fixed keys and a signing helper on the project's crypto. */
import { finalizeEvent, getPublicKey } from '../../src/protocol/crypto.js';
import type { NostrEvent } from '../../src/protocol/event.js';
import { hexToBytes } from '../../src/protocol/hex.js';

/** Three fixed test keys (never used anywhere real). */
export const alice = key('1111111111111111111111111111111111111111111111111111111111111111');
export const bob = key('2222222222222222222222222222222222222222222222222222222222222222');
export const carol = key('3333333333333333333333333333333333333333333333333333333333333333');

function key(hex: string): { sk: Uint8Array; pk: string } {
  const sk = hexToBytes(hex);
  return { sk, pk: getPublicKey(sk) };
}

/** A fixed base time for stored events. */
export const T0 = 1_700_000_000;

/** Signs an event; created_at defaults to T0, tags to [] and content to ''. */
export function sign(
  who: { sk: Uint8Array },
  fields: { kind: number; created_at?: number; tags?: string[][]; content?: string },
): NostrEvent {
  return finalizeEvent(
    { kind: fields.kind, created_at: fields.created_at ?? T0, tags: fields.tags ?? [], content: fields.content ?? '' },
    who.sk,
  );
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
