import { describe, expect, it } from 'vitest';
import { linkSignals } from '../../src/util/linked-signal.js';

describe('linkSignals', () => {
  it('aborts with the first source that aborts, and an already aborted source aborts it at once', () => {
    const a = new AbortController();
    const b = new AbortController();
    const link = linkSignals(a.signal, undefined, b.signal);
    expect(link.signal.aborted).toBe(false);
    b.abort('b');
    expect([link.signal.aborted, link.signal.reason]).toEqual([true, 'b']);
    a.abort('a');
    expect(link.signal.reason).toBe('b');
    expect(linkSignals(a.signal).signal.reason).toBe('a');
  });

  it('after dispose a source no longer reaches it (nothing is left on a long-lived source)', () => {
    const source = new AbortController();
    const link = linkSignals(source.signal);
    link.dispose();
    source.abort();
    expect(link.signal.aborted).toBe(false);
  });
});
