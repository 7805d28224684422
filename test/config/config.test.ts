import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, KeysError } from '../../src/config/errors.js';
import { decryptMnemonic, encryptMnemonic, parseKeysFile, readKeysFile, writeKeysFile, isTooOpen } from '../../src/config/keys-file.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { loadMnemonic } from '../../src/config/mnemonic.js';

const MNEMONIC = 'leader monkey parrot ring guide accident before fence cannon height naive bean';
const dirs: string[] = [];
const tempHome = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('config file', () => {
  it('defaults when absent, parses a valid file', () => {
    const home = tempHome();
    expect(loadConfig(home).relay.port).toBe(7777);
    writeFileSync(join(home, 'config.json'), JSON.stringify({ relays: ['ws://127.0.0.1:1234'], runtime: { idleMs: 5000 } }));
    const cfg = loadConfig(home);
    expect(cfg.relays).toEqual(['ws://127.0.0.1:1234']);
    expect(cfg.runtime.idleMs).toBe(5000);
    expect(cfg.runtime.maxConsecutiveFailures).toBe(3);
  });

  it('names the file and the field in errors', () => {
    expect(() => parseConfig('{"relays": ["http://x"]}', '/h/config.json')).toThrow(/\/h\/config\.json: relays\[0\]: must be a ws:\/\/ or wss:\/\/ URL/);
    expect(() => parseConfig('{"relay": {"port": "x"}}', 'c.json')).toThrow(/c\.json: relay\.port: .*number/);
    expect(() => parseConfig('{"relais": []}', 'c.json')).toThrow(/c\.json: .*relais/);
    expect(() => parseConfig('{oops', 'c.json')).toThrow(ConfigError);
    expect(() => parseConfig('{oops', 'c.json')).toThrow(/c\.json: not valid JSON/);
  });
});

describe('keys file', () => {
  it('parses comments and a mnemonic, and refuses bad content without echoing it', () => {
    expect(parseKeysFile(`# comment\n\nmnemonic = ${MNEMONIC.toUpperCase()}\n`, 'k').mnemonic).toBe(MNEMONIC);
    expect(() => parseKeysFile('mnemonic = leader monkey', 'k')).toThrow(/k: invalid mnemonic: .*this one has 2/);
    expect(() => parseKeysFile('seed = abc', 'k')).toThrow(/k:1: unknown field "seed"/);
    expect(() => parseKeysFile('just words', 'k')).toThrow(KeysError);
    try {
      parseKeysFile(`mnemonic = ${MNEMONIC.replace('bean', 'beans')}`, 'k');
    } catch (error) {
      expect((error as Error).message).not.toContain('leader monkey');
    }
  });

  it('encrypts at rest and refuses a wrong passphrase', () => {
    const sealed = encryptMnemonic(MNEMONIC, 'pass phrase', 12);
    expect(sealed.encrypted).toMatch(/^v1\.12\./);
    expect(sealed.encrypted).not.toContain('leader');
    expect(decryptMnemonic(sealed.encrypted!, 'pass phrase', 'k')).toBe(MNEMONIC);
    expect(() => decryptMnemonic(sealed.encrypted!, 'wrong', 'k')).toThrow(/k: wrong passphrase/);
    expect(() => decryptMnemonic('v1.12.!!.x.y', 'p', 'k')).toThrow(KeysError);
  });

  it('loads from flag, env, plain and encrypted files, and warns on open permissions', async () => {
    const home = tempHome();
    await expect(loadMnemonic({ env: {}, home })).rejects.toThrow(/no mnemonic/);
    expect((await loadMnemonic({ flag: MNEMONIC, env: { AGENT_MNEMONIC: 'x' }, home })).source).toBe('flag');
    expect((await loadMnemonic({ env: { AGENT_MNEMONIC: MNEMONIC }, home })).source).toBe('env');
    const file = join(home, 'keys');
    writeKeysFile(file, { mnemonic: MNEMONIC });
    expect(isTooOpen(file)).toBe(false);
    const warnings: string[] = [];
    expect((await loadMnemonic({ env: {}, home, warn: (w) => warnings.push(w) })).mnemonic).toBe(MNEMONIC);
    expect(warnings).toEqual([]);
    writeKeysFile(file, encryptMnemonic(MNEMONIC, 'pw', 12));
    await expect(loadMnemonic({ env: {}, home })).rejects.toThrow(/encrypted: set AGENT_PASSPHRASE/);
    expect((await loadMnemonic({ env: { AGENT_PASSPHRASE: 'pw' }, home })).mnemonic).toBe(MNEMONIC);
    expect((await loadMnemonic({ env: {}, home, askPassphrase: async () => 'pw' })).mnemonic).toBe(MNEMONIC);
    await expect(loadMnemonic({ env: { AGENT_PASSPHRASE: 'nope' }, home })).rejects.toThrow(/wrong passphrase/);
    const open = join(tempHome(), 'sub');
    mkdirSync(open);
    writeFileSync(join(open, 'keys'), `mnemonic = ${MNEMONIC}\n`, { mode: 0o644 });
    await loadMnemonic({ env: {}, home: open, warn: (w) => warnings.push(w) });
    expect(warnings.join()).toMatch(/readable by other users; run: chmod 600/);
    expect(readKeysFile(join(home, 'missing'))).toBeUndefined();
  });
});
