/** `agent keys …` as a user runs it: the real CLI in a child process. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ROOT, runCli } from '../helpers/cli.js';
import { loadVectors, type Nip06Vectors } from '../helpers/vectors.js';

const { vectors } = loadVectors<Nip06Vectors>('nip06.vectors.json');
const MNEMONIC = vectors[0]!.mnemonic;
const home = mkdtempSync(join(tmpdir(), 'agent-keys-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const SECRETS = vectors.flatMap((v) => [v.privateKey]);

describe('agent keys derive', () => {
  it('works as `npx agent` in the project after npm install (the README\'s example)', () => {
    const out = execFileSync('npx', ['--no-install', 'agent', 'keys', 'derive', '--mnemonic', MNEMONIC, '--account', '0', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      // npm's cache passes through: concurrent npx runs sharing ~/.npm/_npx race (land gives each branch its own).
      // With a cache npx has not seen, it links the project into it and runs its `prepare` (a whole tsc
      // build, 15 s of CPU, rewriting dist/ under the other test files' feet): scripts are off, as
      // `npm test` has built dist/ already.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', npm_config_ignore_scripts: 'true', ...(process.env.npm_config_cache ? { npm_config_cache: process.env.npm_config_cache } : {}) },
      timeout: 60_000,
    });
    expect(JSON.parse(out).publicKey).toBe('17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917');
  });

  it.each(vectors)('prints the NIP-06 vector public key for account $account', async (v) => {
    const r = await runCli(['keys', 'derive', '--mnemonic', v.mnemonic, '--account', String(v.account), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({ account: 0, path: "m/44'/1237'/0'/0/0", publicKey: v.publicKey, npub: expect.stringMatching(/^npub1/) });
    for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s);
    expect(r.stdout).not.toMatch(/nsec1/);
  });

  it.each(vectors)('reveals the vector private key only with --reveal', async (v) => {
    const r = await runCli(['keys', 'derive', '--account', '0', '--json', '--reveal'], { env: { AGENT_MNEMONIC: v.mnemonic } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.privateKey).toBe(v.privateKey);
    expect(out.nsec).toMatch(/^nsec1/);
    expect(out.publicKey).toBe(v.publicKey);
  });

  it('--agent N is exactly --account N+1', async () => {
    const a = await runCli(['keys', 'derive', '--agent', '2', '--mnemonic', MNEMONIC, '--json']);
    const b = await runCli(['keys', 'derive', '--account', '3', '--mnemonic', MNEMONIC, '--json']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(a.stdout).path).toBe("m/44'/1237'/3'/0/0");
  });

  it('prints a human-readable block by default, with no secret', async () => {
    const r = await runCli(['keys', 'derive', '--agent', '0', '--mnemonic', MNEMONIC]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/agent 0 \(account 1\)/);
    expect(r.stdout).toMatch(/npub1/);
    expect(r.stdout).not.toMatch(/nsec1|privateKey/);
  });

  it('a BIP-39 passphrase gives different keys', async () => {
    const a = await runCli(['keys', 'derive', '--account', '0', '--mnemonic', MNEMONIC, '--passphrase', 'extra', '--json']);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).publicKey).not.toBe(vectors[0]!.publicKey);
  });

  it('exports an ncryptsec with --reveal --ncryptsec', async () => {
    const r = await runCli(['keys', 'derive', '--account', '0', '--mnemonic', MNEMONIC, '--json', '--reveal', '--ncryptsec'], {
      env: { AGENT_NCRYPTSEC_PASSWORD: 'pw' },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).ncryptsec).toMatch(/^ncryptsec1/);
  });

  it.each([
    [['--agent', '-1', '--mnemonic', MNEMONIC], /--agent must be a non-negative integer, got "-1"/],
    [['--account', '1.5', '--mnemonic', MNEMONIC], /--account must be a non-negative integer, got "1.5"/],
    [['--agent', '1', '--account', '2', '--mnemonic', MNEMONIC], /exactly one of --agent N or --account A/],
    [['--mnemonic', MNEMONIC], /exactly one of --agent N or --account A/],
    [['--agent', '0', '--mnemonic', MNEMONIC.replace('parrot', 'parrots')], /word 3 \("parrots"\) is not in the BIP-39/],
    [['--agent', '0', '--mnemonic', MNEMONIC.replace('naive bean', 'bean naive')], /checksum does not match/],
    [['--agent', '0', '--mnemonic', MNEMONIC, '--bogus'], /Unknown option '--bogus'/],
  ])('bad input %j exits 2 with one clear line', async (args, message) => {
    const r = await runCli(['keys', 'derive', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('agent keys generate, encrypt, show', () => {
  it('generate prints only a mnemonic (12 or 24 words)', async () => {
    const r12 = await runCli(['keys', 'generate']);
    expect(r12.code).toBe(0);
    expect(r12.stdout.trim().split(' ')).toHaveLength(12);
    expect(r12.stdout.trim().split('\n')).toHaveLength(1);
    const r24 = await runCli(['keys', 'generate', '--words', '24']);
    expect(r24.stdout.trim().split(' ')).toHaveLength(24);
    const bad = await runCli(['keys', 'generate', '--words', '13']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--words must be 12 or 24/);
  });

  it('saves, encrypts, reads back with the passphrase, refuses a wrong one, warns on open permissions', async () => {
    const gen = await runCli(['keys', 'generate', '--save', '--home', home]);
    expect(gen.code).toBe(0);
    const mnemonic = gen.stdout.trim();
    const file = join(home, 'keys');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(`mnemonic = ${mnemonic}`);
    const again = await runCli(['keys', 'generate', '--save', '--home', home]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);

    const plain = await runCli(['keys', 'show', '--json', '--home', home]);
    expect(plain.code).toBe(0);
    const owner = JSON.parse(plain.stdout).owner;
    expect(owner.account).toBe(0);

    const enc = await runCli(['keys', 'encrypt', '--home', home], { env: { AGENT_PASSPHRASE: 'hunter2' } });
    expect(enc.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/encrypted-mnemonic = v1\./);
    expect(text).not.toContain(mnemonic.split(' ')[0] + ' ' + mnemonic.split(' ')[1]);

    const ok = await runCli(['keys', 'show', '--json', '--home', home], { env: { AGENT_PASSPHRASE: 'hunter2' } });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).owner.publicKey).toBe(owner.publicKey);
    expect(JSON.parse(ok.stdout).agents).toEqual([]);

    const wrong = await runCli(['keys', 'show', '--home', home], { env: { AGENT_PASSPHRASE: 'hunter3' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);

    const noTty = await runCli(['keys', 'show', '--home', home]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/no terminal to ask on: set AGENT_PASSPHRASE/);

    chmodSync(file, 0o644);
    const warned = await runCli(['keys', 'derive', '--agent', '0', '--home', home], { env: { AGENT_PASSPHRASE: 'hunter2' } });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(/readable by other users/);
    chmodSync(file, 0o600);
  });

  it('a corrupt keys file is a clear error naming the file', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'agent-keys-bad-'));
    writeFileSync(join(bad, 'keys'), 'mnemonic = not a real phrase at all\n', { mode: 0o600 });
    const r = await runCli(['keys', 'show', '--home', bad]);
    rmSync(bad, { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keys: invalid mnemonic/);
  });
});
