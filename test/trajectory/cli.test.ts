import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay-dev/index.js';
import { bytesToHex } from '../../src/protocol/hex.js';
import { nsecEncode } from '../../src/protocol/nip19.js';
import { SqliteAgentStorage } from '../../src/storage/sqlite/sqlite-agent-storage.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { echoRecord, keys, MNEMONIC, runTicks, T0 } from './fixtures.js';
import { RawRelayClient } from './relay-client.js';

let home: string;
let relay: RunningRelay;
let client: RawRelayClient;
const { ticks, sessions } = runTicks(20);
const outputs: CliResult[] = [];

const agentCli = async (...args: string[]): Promise<CliResult> => {
  const result = await runCli(['trajectory', ...args], { env: { AGENT_HOME: home, AGENT_MNEMONIC: MNEMONIC }, timeoutMs: 60_000 });
  outputs.push(result);
  return result;
};

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'traj-cli-'));
  const storage = SqliteAgentStorage.open(join(home, 'agents.db'));
  try {
    const agent = await storage.agents.create({ name: 'echo', behavior: 'echo', pubkey: keys.agent.publicKey, now: T0 });
    for (let seq = 1; seq <= 20; seq++) await storage.ticks.append(agent.index, echoRecord(seq));
  } finally {
    await storage.close();
  }
  relay = await startRelay({ port: 0, verifyThreads: 0, purgeIntervalMs: 0 });
  client = await RawRelayClient.connect(relay.url);
  for (let i = 0; i < 20; i++) {
    expect((await client.publish(ticks[i]!))[0]).toBe(true);
    expect((await client.publish(sessions[i]!))[0]).toBe(true);
  }
});

afterAll(async () => {
  await client?.close();
  await relay?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('agent trajectory (child process)', () => {
  it('prints the latest ticks human-readable', async () => {
    const out = await agentCli('echo', '--limit', '2');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^#19 {2}2024-05-01 12:19:00Z {2}dm from npub1/m);
    expect(out.stdout).toContain('"hello number 20"');
    expect(out.stdout).not.toContain('#18');
    expect(out.stdout).toMatch(/\+12ms +20ms {2}message/);
  });

  it('prints JSON lines since a date', async () => {
    const out = await agentCli('echo', '--json', '--since', '2024-05-01T12:10:00Z');
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; outcome: string });
    expect(lines.map((l) => l.seq)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(lines[0]).toMatchObject({ outcome: 'ok', trigger: { type: 'dm', text: 'hello number 10' } });
  });

  it('verifies against relay-dev, then names the break when a tick is deleted', async () => {
    const ok = await agentCli('echo', '--verify', '--relay', relay.url);
    expect(ok.stdout).toBe(`verified: 20 ticks (1 session; head ${ticks[19]!.id})\n`);
    expect(ok.code).toBe(0);
    const json = await agentCli('echo', '--verify', '--relay', relay.url, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, ticks: 20, agent: keys.agent.publicKey });

    expect(relay.relay.store.deleteById(ticks[11]!.id)).toBe(true);
    const broken = await agentCli('echo', '--verify', '--relay', relay.url);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('trajectory broken: 2 problems in 19 ticks');
    expect(broken.stdout).toContain(`seq 12 [missing] seq 12 is missing: tick seq 13 (${ticks[12]!.id}) follows tick ${ticks[11]!.id}, which was not found`);
  });

  it('rejects bad input with one clear line and exit 2', async () => {
    const since = await agentCli('echo', '--since', 'last tuesday');
    expect(since.code).toBe(2);
    expect(since.stderr).toBe('agent: --since must be a date like 2024-05-01 or 2024-05-01T12:00Z, got "last tuesday"\n');
    const ghost = await agentCli('ghost');
    expect(ghost.code).toBe(2);
    expect(ghost.stderr).toContain('no agent named "ghost"');
    const nsec = await agentCli(nsecEncode(keys.stranger.secretKey), '--verify', '--relay', relay.url);
    expect(nsec.code).toBe(2);
    expect(nsec.stderr).toContain('that is a private key (nsec)');
    const mixed = await agentCli('echo', '--verify', '--limit', '3');
    expect(mixed.code).toBe(2);
  });

  it('never printed a secret', () => {
    const all = JSON.stringify(outputs);
    for (const secret of [MNEMONIC, bytesToHex(keys.owner.secretKey), bytesToHex(keys.agent.secretKey), nsecEncode(keys.agent.secretKey), nsecEncode(keys.stranger.secretKey), bytesToHex(keys.stranger.secretKey)]) {
      expect(all).not.toContain(secret);
    }
  });
});
