import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR, SHARED_DIR, type VectorFile } from '../helpers/vectors.js';

describe('vector files', () => {
  it.each<VectorFile>(['nip06.vectors.json', 'nip44.vectors.json'])('the fixture copy of %s equals ../shared/vectors', (name) => {
    const fixture = readFileSync(`${FIXTURE_DIR}${name}`, 'utf8');
    expect(JSON.parse(fixture)).toBeTypeOf('object');
    if (existsSync(`${SHARED_DIR}${name}`)) expect(fixture).toBe(readFileSync(`${SHARED_DIR}${name}`, 'utf8'));
  });
});
