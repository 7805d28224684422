/**
 * The official test vectors (NIP-06, NIP-44). Read from ../shared/vectors beside the repository when
 * present (the source of truth), else from the identical copy in test/fixtures/vectors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));
export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/vectors/', import.meta.url));

export type VectorFile = 'nip06.vectors.json' | 'nip44.vectors.json';

/** Parsed JSON of a vectors file. */
export function loadVectors<T>(name: VectorFile): T {
  const dir = existsSync(`${SHARED_DIR}${name}`) ? SHARED_DIR : FIXTURE_DIR;
  return JSON.parse(readFileSync(`${dir}${name}`, 'utf8')) as T;
}

export interface Nip06Vectors {
  vectors: Array<{ mnemonic: string; account: number; privateKey: string; publicKey: string }>;
}
