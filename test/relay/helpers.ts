/** Shared fixtures for the messaging tests: real relay-dev servers, temp SQLite files, polling waits. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type RelayOptions, type RunningRelay } from '../../relay-dev/index.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws naming `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A fixed-key signer (byte repeated 32 times). */
export function signerOf(byte: number): SecretKeySigner {
  return new SecretKeySigner(hexToBytes(byte.toString(16).padStart(2, '0').repeat(32)));
}

/** Tracks temp dirs and relays so afterEach can clean up everything a test started. */
export class Fixture {
  readonly relays: RunningRelay[] = [];
  readonly dirs: string[] = [];
  readonly closers: Array<() => unknown> = [];

  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'msg-test-'));
    this.dirs.push(dir);
    return dir;
  }

  async relay(options: RelayOptions = {}): Promise<RunningRelay> {
    const relay = await startRelay({ verifyThreads: 0, purgeIntervalMs: 0, ...options });
    this.relays.push(relay);
    return relay;
  }

  onClose(fn: () => unknown): void {
    this.closers.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.closers.reverse()) await fn();
    await Promise.all(this.relays.map((r) => r.close()));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.closers.length = 0;
    this.relays.length = 0;
    this.dirs.length = 0;
  }
}
