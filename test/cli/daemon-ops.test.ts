/**
 * The daemon's operations side, in process against relay-dev: /healthz, /readyz (200 with every
 * check, 503 naming the agent whose relays are gone), /metrics on the tokenless listener and behind
 * the control token, parsed with a real Prometheus parser, counters moving with a real NIP-17 DM.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAgentRecord } from '../../src/cli/agents.js';
import { startDaemon, type RunningDaemon } from '../../src/cli/daemon.js';
import { openHome, openStorage } from '../../src/cli/home-context.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { mnemonicToSeed } from '../../src/protocol/nip06.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { ArrayLogger } from '../../src/util/logger.js';
import { TEST_MNEMONIC, eventually, startTestRelay, stopAll, tempHome, testPool } from '../helpers/daemon.js';
import { scrape } from '../helpers/prometheus.js';
import { stranger } from '../runtime/helpers.js';

let daemon: RunningDaemon | undefined;
afterAll(async () => {
  await daemon?.stop({ signal: AbortSignal.abort() });
  await stopAll();
});

describe('daemon health, readiness and metrics', () => {
  it('serves /healthz, /readyz and /metrics; counters move with a DM; readiness fails when the relay goes', async () => {
    await loadFastCrypto();
    const relay = await startTestRelay();
    const homeDir = tempHome({ relays: [relay.url] });
    const home = openHome(homeDir, {});
    const seed = mnemonicToSeed(TEST_MNEMONIC);
    const storage = await openStorage(home);
    const record = await createAgentRecord(storage, seed, { name: 'echo', behavior: 'echo' }, [relay.url], Date.now());
    await storage.close();
    const logger = new ArrayLogger();
    daemon = await startDaemon({ home, seed, logger, metrics: { port: 0 } });
    const ops = daemon.metricsServer!.url;
    const token = readFileSync(join(homeDir, 'control.token'), 'utf8').trim();
    expect(JSON.parse(readFileSync(join(homeDir, 'control.json'), 'utf8')).metricsUrl).toBe(ops);

    const health = await fetch(`${ops}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, pid: process.pid });
    const ready = await eventually(async () => {
      const res = await fetch(`${ops}/readyz`);
      return res.status === 200 ? res.json() : undefined;
    }, 20_000, '/readyz 200');
    expect(ready).toMatchObject({ ready: true, checks: { database: { ok: true }, relays: { ok: true, agents: [{ agent: 'echo', connected: [relay.url] }] }, wakeLoop: { ok: true } } });

    // The control API serves the same endpoints, but only with its token; the ops listener serves nothing else.
    expect((await fetch(`${daemon.control.url}/metrics`)).status).toBe(401);
    expect((await scrape(`${daemon.control.url}/metrics`, token)).type('agent_ticks_total')).toBe('COUNTER');
    expect((await fetch(`${ops}/v1/overview`)).status).toBe(404);

    const user = stranger(0x5a);
    const pool = testPool(relay.url, [user]);
    const [wrap] = buildDirectMessage(user, record.pubkey, 'hello metrics');
    expect((await pool.publish(wrap!.event))[0]).toMatchObject({ ok: true });
    const after = await eventually(async () => {
      const s = await scrape(`${ops}/metrics`);
      return s.value('agent_outbox_delivered_total', { kind: 'nip17' }) >= 1 ? s : undefined;
    }, 30_000, 'the echo reply delivered');
    // Delivered by kind only: no series per agent for what every agent publishes at a start (profiles, snapshots).
    expect(after.labels('agent_outbox_delivered_total')).toContainEqual({ kind: 'nip17' });
    expect(after.labels('agent_outbox_delivered_total').every((labels) => !('agent' in labels))).toBe(true);
    expect(after.value('agent_ticks_total', { agent: 'echo', trigger: 'dm', outcome: 'ok' })).toBe(1);
    expect(after.count('agent_tick_duration_seconds', { agent: 'echo', trigger: 'dm' })).toBe(1);
    expect(after.value('agent_messages_received_total', { agent: 'echo', kind: 'nip17' })).toBe(1);
    expect(after.count('agent_outbox_delivery_seconds', { kind: 'nip17' })).toBeGreaterThanOrEqual(1);
    expect(after.value('agent_relay_connected', { relay: relay.url })).toBe(1);
    expect(after.labels('agent_relay_breaker_open')).toContainEqual({ relay: relay.url });
    expect(after.value('agent_relay_breaker_open', { relay: relay.url })).toBe(0);
    expect(after.value('agent_agents', { state: 'active' }) + after.value('agent_agents', { state: 'dormant' })).toBe(1);
    expect(after.value('agent_budget_limit', { agent: 'echo', resource: 'llm_calls' })).toBe(500);
    expect(after.type('agent_inbound_dropped_total')).toBe('COUNTER');
    expect(after.type('process_cpu_user_seconds_total')).toBe('COUNTER');
    // Bounded labels: the sender's key and the event ids never become label values.
    expect(after.text).not.toContain(user.getPublicKey());
    expect(after.text).not.toContain(wrap!.event.id);

    // Log lines name the agent (and keep its key apart), never only the key.
    expect(logger.records.find((r) => r.ns === 'tick' && r.trigger === 'dm')).toMatchObject({ agent: 'echo', outcome: 'ok', seq: 2 });

    await relay.close();
    const down = await eventually(async () => {
      const res = await fetch(`${ops}/readyz`);
      return res.status === 503 ? res.json() : undefined;
    }, 20_000, '/readyz 503');
    expect(down).toMatchObject({ ready: false, checks: { relays: { ok: false, detail: 'no relay connected for echo' }, database: { ok: true } } });
    // Reconnects keep failing: the relay's circuit breaker opens, and the gauge says so.
    await eventually(async () => ((await scrape(`${ops}/metrics`)).value('agent_relay_breaker_open', { relay: relay.url }) === 1 ? true : undefined), 60_000, 'breaker gauge 1');
  });
});
