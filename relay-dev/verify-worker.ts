/**
 * The source of a signature worker thread (plain JS run with `eval`, so it works the same from TypeScript
 * sources and from dist/). It is started with workerData `{ wasmUrl, wasmFile, keySlots }`, receives `{ id, raws }` (events' JSON) and answers `{ id, results }`, one byte
 * per event: 1 when the id is the event's hash and the BIP-340 signature is valid, else 0.
 *
 * Fast path: libsecp256k1 itself, from the wasm file nostr-wasm ships, called directly so that each
 * author's parsed x-only public key is cached (parsing costs a square root, ~12% of a check) and the id is
 * hashed by Node's native SHA-256. The binding relies on that build's export names, so it must pass a
 * self-test against nostr-wasm's own API (a valid event accepted; a changed content and a changed signature
 * refused) before it is used; otherwise the worker falls back to nostr-wasm's verifyEvent, and says why.
 */
export const VERIFY_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');

const HEX32 = /^[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{128}$/;
const KEY_SLOTS = workerData.keySlots; // cached parsed public keys (64 bytes of wasm memory each)

function wellFormed(e) {
  return typeof e === 'object' && e !== null && typeof e.id === 'string' && HEX32.test(e.id) &&
    typeof e.pubkey === 'string' && HEX32.test(e.pubkey) && typeof e.sig === 'string' && HEX64.test(e.sig);
}

/** libsecp256k1 (the build inside nostr-wasm) without the wrapper: export names as in nostr-wasm 0.1. */
async function directVerifier(wasmFile) {
  let heap;
  let heap32;
  const fail = (what) => { throw new Error('libsecp256k1: ' + what); };
  const imports = {
    a: fail.bind(null, 'abort'),                                // abort
    b: (fd, iov, count, written) => {                           // fd_write (diagnostics only): discard
      let n = 0;
      for (let i = 0; i < count; i++) n += heap32[(iov + 8 * i + 4) >> 2];
      heap32[written >> 2] = n;
      return 0;
    },
    c: () => 70,                                                // fd_seek
    d: fail.bind(null, 'out of memory'),                        // resize_heap
    e: () => 52,                                                // fd_close
    f: (dst, src, n) => heap.copyWithin(dst, src, src + n),     // memcpy
  };
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmFile), { a: imports });
  const x = instance.exports;
  heap = new Uint8Array(x.g.buffer);
  heap32 = new Uint32Array(x.g.buffer);
  x.h();                                                        // init
  const ctx = x.o(257);                                         // context_create(VERIFY)
  const msg = x.i(32);                                          // malloc
  const sig = x.i(64);
  const input = x.i(32);
  const slab = x.i(64 * KEY_SLOTS);
  const keys = new Map();
  const xonly = (pubkey) => {
    let at = keys.get(pubkey);
    if (at !== undefined) return at;
    if (keys.size >= KEY_SLOTS) keys.clear();
    at = slab + 64 * keys.size;
    heap.set(Buffer.from(pubkey, 'hex'), input);
    if (x.p(ctx, at, input) !== 1) return 0;                    // xonly_pubkey_parse
    keys.set(pubkey, at);
    return at;
  };
  return (e) => {
    if (!wellFormed(e)) return false;
    const hash = createHash('sha256')
      .update(JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content]))
      .digest();
    if (hash.toString('hex') !== e.id) return false;
    const key = xonly(e.pubkey);
    if (key === 0) return false;
    heap.set(hash, msg);
    heap.set(Buffer.from(e.sig, 'hex'), sig);
    return x.u(ctx, sig, msg, 32, key) === 1;                   // schnorrsig_verify
  };
}

/** True when verify agrees with nostr-wasm on a fresh valid event and on two forgeries of it. */
function selfTest(verify, nw) {
  const event = { kind: 1, created_at: 1700000000, tags: [['t', 'self-test']], content: 'self-test \\u00e9' };
  nw.finalizeEvent(event, nw.generateSecretKey());
  const forged = { ...event, content: event.content + '!' };
  const flipped = event.sig.slice(0, 10) + (event.sig[10] === '0' ? '1' : '0') + event.sig.slice(11);
  const badSig = { ...event, sig: flipped };
  return verify(event) === true && verify(forged) === false && verify(badSig) === false;
}

import(workerData.wasmUrl).then(async ({ initNostrWasm }) => {
  const nw = await initNostrWasm();
  // nostr-wasm alone would accept uppercase hex (parseInt), which verifyEvent on the main thread refuses.
  let verify = (e) => { if (!wellFormed(e)) return false; try { nw.verifyEvent(e); return true; } catch { return false; } };
  let warning;
  try {
    const direct = await directVerifier(workerData.wasmFile);
    if (selfTest(direct, nw)) verify = direct;
    else warning = 'direct libsecp256k1 binding failed its self-test; using nostr-wasm verifyEvent';
  } catch (error) {
    warning = 'direct libsecp256k1 binding unavailable (' + String((error && error.message) || error) + '); using nostr-wasm verifyEvent';
  }
  parentPort.on('message', ({ id, raws }) => {
    const results = new Uint8Array(raws.length);
    for (let i = 0; i < raws.length; i++) {
      try { results[i] = verify(JSON.parse(raws[i])) ? 1 : 0; } catch { results[i] = 0; }
    }
    parentPort.postMessage({ id, results }, [results.buffer]);
  });
  parentPort.postMessage({ ready: true, warning });
}).catch((error) => parentPort.postMessage({ failed: String((error && error.message) || error) }));
`;
