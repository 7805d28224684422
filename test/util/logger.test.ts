/** The two log line formats: JSON (stable envelope, never throws) and text (tick summary not repeated). */
import { describe, expect, it } from 'vitest';
import { jsonLine, textLine } from '../../src/util/logger.js';

const at = new Date('2026-01-02T03:04:05.678Z');

describe('log lines', () => {
  it('JSON: time, level, ns and msg first, then the fields; errors and bigints as strings; one line', () => {
    const line = jsonLine({ level: 'warn', ns: 'outbox', msg: 'gave up\npublishing', event: 'ab', error: new Error('boom'), n: 10n }, at);
    expect(line).not.toContain('\n');
    expect(Object.keys(JSON.parse(line))).toEqual(['time', 'level', 'ns', 'msg', 'event', 'error', 'n']);
    expect(JSON.parse(line)).toEqual({ time: '2026-01-02T03:04:05.678Z', level: 'warn', ns: 'outbox', msg: 'gave up\npublishing', event: 'ab', error: 'boom', n: '10' });
  });

  it('JSON: a circular field keeps the envelope instead of losing the line', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(JSON.parse(jsonLine({ level: 'info', ns: 'x', msg: 'm', loop }, at))).toEqual({ time: '2026-01-02T03:04:05.678Z', level: 'info', ns: 'x', msg: 'm', unserializable: ['loop'] });
  });

  it('text: the tick summary fields the message already says are left out, the rest are key=value', () => {
    const line = textLine({ level: 'info', ns: 'tick', msg: 'echo #3 dm → ok', agent: 'echo', seq: 3, trigger: 'dm', outcome: 'ok', ms: 12, sent: 1 }, at);
    expect(line).toBe('2026-01-02T03:04:05.678Z info  [tick] echo #3 dm → ok ms=12 sent=1');
  });
});
