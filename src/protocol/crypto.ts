/**
 * Event signing and verification, and the ECDH under NIP-44, with a fast path and a fallback.
 *
 * Why two engines: nostr-wasm (libsecp256k1 compiled to wasm) signs and verifies 6–8× faster than
 * pure JS, which matters on the relay's ingest path and the pool's verify-every-event path; and
 * tiny-secp256k1 (libsecp256k1 in wasm as well) multiplies a point by a scalar ~10× faster than Node's
 * OpenSSL, which NIP-44 needs once per gift wrap built or opened (six per DM round trip). Wasm can
 * fail to load (odd runtimes, locked-down environments), so the pure-JS and OpenSSL paths stay as a
 * fallback and are what runs until `loadFastCrypto()` has resolved. All produce and accept the same data.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { initNostrWasm, type Nostr } from 'nostr-wasm';
import { getEventHash, type EventTemplate, type NostrEvent } from './event.js';
import { bytesToHex, hexToBytes, isHex32, isHex64 } from './hex.js';

/** The one call of tiny-secp256k1 used here (its types are not needed elsewhere). */
interface PointMultiplier {
  pointMultiply(point: Uint8Array, scalar: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointFromScalar(scalar: Uint8Array, compressed?: boolean): Uint8Array | null;
}

let wasm: Nostr | undefined;
let ecdhWasm: PointMultiplier | undefined;
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
      (m: PointMultiplier) => void (ecdhWasm = m),
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
  if (!ecdhWasm) return undefined;
  const point = new Uint8Array(33);
  point[0] = 2;
  point.set(xOnlyPublicKey, 1);
  const shared = ecdhWasm.pointMultiply(point, secretKey, true);
  if (!shared) throw new Error('invalid shared secret: point at infinity');
  return shared.subarray(1);
}

/** Which engine signs and verifies right now. */
export function cryptoEngine(): 'wasm' | 'js' {
  return wasm ? 'wasm' : 'js';
}

/** For tests and benchmarks: force the pure-JS path (or restore wasm if it was loaded). */
export function useFastCrypto(enabled: boolean): void {
  if (!enabled) {
    wasm = undefined;
    ecdhWasm = undefined;
    loading = undefined;
  }
}

/** The 33-byte compressed public key of a valid secret key (BIP-32 needs its parity; Nostr keys drop it). */
export function compressedPublicKey(secretKey: Uint8Array): Uint8Array {
  const point = ecdhWasm?.pointFromScalar(secretKey, true);
  return point ?? secp256k1.getPublicKey(secretKey, true);
}

/** The x-only public key (hex) of a 32-byte secret key. */
export function getPublicKey(secretKey: Uint8Array): string {
  if (wasm) return bytesToHex(wasm.getPublicKey(secretKey));
  return bytesToHex(schnorr.getPublicKey(secretKey));
}

/** Signs a template with a secret key: fills pubkey, id and sig. */
export function finalizeEvent(template: EventTemplate, secretKey: Uint8Array): NostrEvent {
  const event: NostrEvent = {
    kind: template.kind,
    created_at: template.created_at,
    tags: template.tags,
    content: template.content,
    pubkey: '',
    id: '',
    sig: '',
  };
  // The wasm engine fills in the pubkey from the keypair it builds to sign: deriving it here as well
  // would cost a second base-point multiplication per signature.
  if (wasm) {
    wasm.finalizeEvent(event, secretKey);
    return event;
  }
  event.pubkey = getPublicKey(secretKey);
  event.id = getEventHash(event);
  event.sig = bytesToHex(schnorr.sign(hexToBytes(event.id), secretKey));
  return event;
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
