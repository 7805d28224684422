import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PIECE_BYTES, readTextFile, writeTextFileAtomic } from '../../src/util/chunked-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function path(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chunked-file-'));
  dirs.push(dir);
  return join(dir, 'state.json');
}

describe('chunked-file', () => {
  it('reads a file of many pieces as readFileSync does, also where a UTF-8 character spans two pieces', () => {
    const file = path();
    // 'é' is 2 bytes, '€' 3 and '🦀' 4: with an odd prefix they straddle every piece boundary somewhere.
    const text = `x${'aé€🦀'.repeat(Math.ceil((3 * PIECE_BYTES) / 10))}\n`;
    writeFileSync(file, text);
    expect(readTextFile(file)).toBe(readFileSync(file, 'utf8'));
    expect(readTextFile(file)).toBe(text);
  });

  it('reads an empty file, and throws ENOENT for a missing one', () => {
    const file = path();
    writeFileSync(file, '');
    expect(readTextFile(file)).toBe('');
    expect(() => readTextFile(`${file}.missing`)).toThrow(/ENOENT/);
  });

  it('writes the pieces in order to a new file of mode 600, replacing the old one whole', () => {
    const file = path();
    writeFileSync(file, 'old content that is longer than the new one');
    writeTextFileAtomic(file, ['{"a":', '"é€"', '}\n']);
    expect(readFileSync(file, 'utf8')).toBe('{"a":"é€"}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => statSync(`${file}.tmp`)).toThrow(/ENOENT/);
  });
});
