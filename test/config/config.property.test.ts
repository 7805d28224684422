/** Property tests of the config loader: any file text gives a Config or one ConfigError naming the file; never a crash, never a secret. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

const FILE = '/home/someone/.agent/config.json';
const SECRET = 'sk-live-0123456789abcdef';

/** Objects shaped like a config: each known key mostly right, sometimes wrong, now and then a typo. */
const wrong = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('http://x', 'loud', -1, 70_000, 1.5, null));
const pick = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: wrong, weight: 1 });
const port = pick(fc.integer({ min: 0, max: 65_535 }));
const configLike = fc.record(
  {
    relays: pick(fc.array(pick(fc.constantFrom('ws://127.0.0.1:7777', 'wss://relay.example')), { maxLength: 3 })),
    relay: pick(fc.record({ host: pick(fc.constantFrom('127.0.0.1', '0.0.0.0')), port }, { requiredKeys: [] })),
    control: pick(fc.record({ port }, { requiredKeys: [] })),
    runtime: pick(fc.record({ concurrency: pick(fc.integer({ min: 1, max: 64 })), idleMs: pick(fc.integer({ min: 1, max: 1e7 })), maxConsecutiveFailures: pick(fc.integer({ min: 1, max: 9 })) }, { requiredKeys: [] })),
    llm: pick(fc.record({ baseUrl: pick(fc.constantFrom('http://127.0.0.1:11434/v1', 'https://api.example/v1')), model: pick(fc.constantFrom('m', 'gpt')), apiKey: fc.constant(SECRET) }, { requiredKeys: ['baseUrl', 'model', 'apiKey'] })),
    log: pick(fc.record({ level: pick(fc.constantFrom('debug', 'info', 'warn', 'error')), json: pick(fc.boolean()) }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
).chain((obj) => fc.option(wrong, { freq: 10 }).map((typo) => (typo === null ? obj : { ...obj, typo })));

/** Parses, and checks that a failure is exactly one ConfigError that names the file and hides the key. */
function load(text: string): 'ok' | 'error' {
  try {
    const config = parseConfig(text, FILE);
    expect(config.log.level).toMatch(/^(debug|info|warn|error)$/);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(`${FILE}: `)).toBe(true);
    expect(message.length).toBeGreaterThan(FILE.length + 5);
    expect(message).not.toContain(SECRET);
    return 'error';
  }
}

describe('config loader: generated files', () => {
  it('arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => void load(text)), { numRuns: 2000 });
  });

  it('arbitrary JSON', () => {
    fc.assert(fc.property(fc.json({ maxDepth: 3 }), (text) => void load(text)), { numRuns: 2000 });
  });

  it('config-shaped objects with right and wrong values: both outcomes occur, each clean', () => {
    const seen = new Set<string>();
    fc.assert(fc.property(configLike, (obj) => void seen.add(load(JSON.stringify(obj)))), { numRuns: 1500 });
    expect([...seen].sort()).toEqual(['error', 'ok']);
  });
});
