/**
 * Event signing and verification, and the ECDH under NIP-44, with a fast path and a fallback.
 *
 * Why these engines: nostr-wasm (libsecp256k1 compiled to wasm) verifies 6–8× faster than pure JS,
 * which matters on the relay's ingest path and the pool's verify-every-event path; tiny-secp256k1
 * (libsecp256k1 in wasm as well, built from rust-secp256k1) multiplies a point by a scalar ~10× faster
 * than Node's OpenSSL, which NIP-44 needs once per gift wrap built or opened (six per DM round trip),
 * and signs too. Signing goes through tiny-secp256k1 (see `signEventAs`): its base-point
 * multiplication costs ~80 µs here against ~140 µs in nostr-wasm's build, and a signer that knows its
 * public key needs no derivation at all. Wasm can fail to load (odd runtimes, locked-down
 * environments), so the pure-JS and OpenSSL paths stay as a fallback and are what runs until
 * `loadFastCrypto()` has resolved. All produce and accept the same data.
 */
import { randomBytes } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { initNostrWasm, type Nostr } from 'nostr-wasm';
import { getEventHash, getEventHashBytes, type EventTemplate, type NostrEvent } from './event.js';
import { bytesToHex, hexToBytes, isHex32, isHex64 } from './hex.js';

/** The calls of tiny-secp256k1 used here (its types are not needed elsewhere). */
interface TinySecp256k1 {
  pointMultiply(point: Uint8Array, scalar: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointFromScalar(scalar: Uint8Array, compressed?: boolean): Uint8Array | null;
  xOnlyPointFromScalar(scalar: Uint8Array): Uint8Array;
  signSchnorr(hash: Uint8Array, secretKey: Uint8Array, auxRandomness?: Uint8Array): Uint8Array;
}

let wasm: Nostr | undefined;
let tinySecp: TinySecp256k1 | undefined;
let loading: Promise<boolean> | undefined;

/**
 * Loads the wasm engines once (each compiles in ~50 ms, so commands that never sign skip it);
 * resolves true when the signing engine is in use, false when the pure-JS path stays.
 */
export function loadFastCrypto(): Promise<boolean> {
  loading ??= Promise.all([
    initNostrWasm().then(
      (nw) => {
        wasm = nw;
        return true;
      },
      () => false,
    ),
    import('tiny-secp256k1').then(
      (m: TinySecp256k1) => void (tinySecp = m),
      () => undefined,
    ),
  ]).then(([signing]) => signing);
  return loading;
}

/**
 * The x coordinate of secretKey × (the even-y point with x = `xOnlyPublicKey`, 32 bytes), with the
 * wasm engine; undefined when it is not loaded (the caller then uses its fallback). Throws when the
 * public key is not on the curve. The secret key is expected to be valid (the caller checks it).
 */
export function fastSharedX(secretKey: Uint8Array, xOnlyPublicKey: Uint8Array): Uint8Array | undefined {
  if (!tinySecp) return undefined;
  const point = new Uint8Array(33);
  point[0] = 2;
  point.set(xOnlyPublicKey, 1);
  const shared = tinySecp.pointMultiply(point, secretKey, true);
  if (!shared) throw new Error('invalid shared secret: point at infinity');
  return shared.subarray(1);
}

/** Which engine verifies right now ('wasm': nostr-wasm). */
export function cryptoEngine(): 'wasm' | 'js' {
  return wasm ? 'wasm' : 'js';
}

/** Which engine signs right now (tiny-secp256k1, else nostr-wasm, else noble). */
export function signingEngine(): 'tiny-secp256k1' | 'nostr-wasm' | 'noble' {
  return tinySecp ? 'tiny-secp256k1' : wasm ? 'nostr-wasm' : 'noble';
}

/** For tests and benchmarks: force the pure-JS path (or restore wasm if it was loaded). */
export function useFastCrypto(enabled: boolean): void {
  if (!enabled) {
    wasm = undefined;
    tinySecp = undefined;
    loading = undefined;
  }
}

/** The 33-byte compressed public key of a valid secret key (BIP-32 needs its parity; Nostr keys drop it). */
export function compressedPublicKey(secretKey: Uint8Array): Uint8Array {
  const point = tinySecp?.pointFromScalar(secretKey, true);
  return point ?? secp256k1.getPublicKey(secretKey, true);
}

/** The x-only public key (hex) of a 32-byte secret key. */
export function getPublicKey(secretKey: Uint8Array): string {
  if (tinySecp) return bytesToHex(tinySecp.xOnlyPointFromScalar(secretKey));
  if (wasm) return bytesToHex(wasm.getPublicKey(secretKey));
  return bytesToHex(schnorr.getPublicKey(secretKey));
}

/**
 * Signs a template as `publicKey`, which must be the x-only public key of `secretKey` (a signer
 * derives it once and keeps it): fills pubkey, id and sig. `auxRandomness` is BIP-340's 32 bytes of
 * auxiliary randomness, fresh per signature by default (it hardens the nonce against fault and
 * side-channel attacks); pass it for a deterministic signature.
 *
 * Why not `finalizeEvent` for a long-lived key: every engine's one-call signing (nostr-wasm's
 * `finalizeEvent`, noble's `schnorr.sign`, libsecp256k1's `keypair_create` under tiny-secp256k1's
 * `signSchnorr`) derives the public key from the secret key again, a base-point multiplication that
 * doubles the cost of a signature. tiny-secp256k1 still builds the keypair inside `signSchnorr`, but
 * its multiplication is the cheaper one, so a known public key plus `signSchnorr` is ~180 µs against
 * nostr-wasm's ~310 µs (bench/sign.ts, docs/performance.md "Signing").
 */
export function signEventAs(template: EventTemplate, secretKey: Uint8Array, publicKey: string, auxRandomness?: Uint8Array): NostrEvent {
  if (!tinySecp) return finalizeEvent(template, secretKey, auxRandomness);
  const event = unsignedEvent(template);
  event.pubkey = publicKey;
  return signHashed(event, secretKey, tinySecp, auxRandomness);
}

/** Signs a template with a secret key: fills pubkey, id and sig (`auxRandomness` as in `signEventAs`). */
export function finalizeEvent(template: EventTemplate, secretKey: Uint8Array, auxRandomness?: Uint8Array): NostrEvent {
  const event = unsignedEvent(template);
  if (tinySecp) {
    // A one-off key (a gift wrap's): its public key is needed anyway, and tiny-secp256k1 derives it faster.
    event.pubkey = bytesToHex(tinySecp.xOnlyPointFromScalar(secretKey));
    return signHashed(event, secretKey, tinySecp, auxRandomness);
  }
  // The wasm engine fills in the pubkey from the keypair it builds to sign: deriving it here as well
  // would cost a second base-point multiplication per signature. (It draws its own aux randomness.)
  if (wasm && !auxRandomness) {
    wasm.finalizeEvent(event, secretKey);
    return event;
  }
  event.pubkey = getPublicKey(secretKey);
  event.id = getEventHash(event);
  event.sig = bytesToHex(schnorr.sign(hexToBytes(event.id), secretKey, auxRandomness));
  return event;
}

function signHashed(event: NostrEvent, secretKey: Uint8Array, engine: TinySecp256k1, auxRandomness?: Uint8Array): NostrEvent {
  const hash = getEventHashBytes(event);
  event.id = hash.toString('hex');
  const sig = engine.signSchnorr(hash, secretKey, auxRandomness ?? randomBytes(32));
  // Buffer's hex is one flat string (a byte-wise join is a chain of cons strings kept with the event).
  event.sig = Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength).toString('hex');
  return event;
}

function unsignedEvent(template: EventTemplate): NostrEvent {
  return {
    kind: template.kind,
    created_at: template.created_at,
    tags: template.tags,
    content: template.content,
    pubkey: '',
    id: '',
    sig: '',
  };
}

/** True when the id matches the content and the signature is valid for the pubkey. Never throws. */
export function verifyEvent(event: NostrEvent): boolean {
  if (!isHex32(event.id) || !isHex32(event.pubkey) || !isHex64(event.sig)) return false;
  if (wasm) {
    try {
      wasm.verifyEvent(event);
      return true;
    } catch {
      return false;
    }
  }
  try {
    if (getEventHash(event) !== event.id) return false;
    return schnorr.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey));
  } catch {
    return false;
  }
}
