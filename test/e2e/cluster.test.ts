/**
 * Many daemons, one PostgreSQL: three `agent run` processes share 30 echo agents by lease while 30
 * senders send 300 DMs. One daemon is killed (SIGKILL), another frozen (SIGSTOP) past its lease and
 * resumed, PostgreSQL is restarted, and a fourth daemon joins: every DM is answered exactly once, and
 * the fourth daemon ends up with its share. The time from the kill (and the freeze) to the first
 * answer by a new holder is printed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createAgentRecord } from '../../src/cli/agents.js';
import { loadFastCrypto } from '../../src/protocol/crypto.js';
import { hexToBytes } from '../../src/protocol/hex.js';
import { mnemonicToSeed } from '../../src/protocol/nip06.js';
import { parseChatRumor } from '../../src/protocol/nip17.js';
import { unwrapGift } from '../../src/protocol/nip59.js';
import { buildDirectMessage } from '../../src/relay/reply.js';
import { SecretKeySigner } from '../../src/signer/secret-key-signer.js';
import { openStorage } from '../../src/storage/open.js';
import type { AgentStorage } from '../../src/storage/types.js';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, eventually, startCli, startTestRelay, stopAll, tempHome, testPool, type CliProcess } from '../helpers/daemon.js';
import { createTestDatabase, startPostgres, type TestPostgres } from '../helpers/postgres.js';

const AGENTS = 30;
const ROUNDS = 10;
const LEASE_SECONDS = 2;

let server: TestPostgres | undefined;
let storage: AgentStorage | undefined;
afterAll(async () => {
  await stopAll();
  await storage?.close().catch(() => {});
  await server?.destroy();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Reply {
  at: number;
  agent: string;
  sender: string;
  text: string;
}

describe('many daemons on one PostgreSQL', () => {
  it('share 30 agents by lease through a SIGKILL, a SIGSTOP past the lease, a database restart and a new daemon: every DM answered once', { timeout: 150_000 }, async () => {
    await loadFastCrypto();
    const relay = await startTestRelay();
    server = await startPostgres();
    const { url } = await createTestDatabase(server.url, 'cluster');
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, AGENT_DATABASE_URL: url };

    // 30 echo agents, created straight in the shared database.
    storage = await openStorage(url);
    const seed = mnemonicToSeed(TEST_MNEMONIC);
    const agents: string[] = [];
    for (let i = 0; i < AGENTS; i++) agents.push((await createAgentRecord(storage, seed, { name: `echo${i}`, behavior: 'echo' }, [relay.url], Date.now())).pubkey);
    const indexOf = new Map(agents.map((p, i) => [p, i]));

    const holders = async (): Promise<Map<string, number[]>> => {
      const now = Date.now();
      const out = new Map<string, number[]>();
      for (const r of await storage!.leases.list()) {
        if (!r.daemonId || r.expiresAt <= now) continue;
        out.set(r.daemonId, [...(out.get(r.daemonId) ?? []), r.agentIndex]);
      }
      return out;
    };
    const daemonIdOf = (p: CliProcess): string => /held as (d-[0-9a-f]+)/.exec(p.stdout())?.[1] ?? '';

    const start = (): CliProcess => startCli(['run', '--home', tempHome({ relays: [relay.url] }), '--lease-seconds', String(LEASE_SECONDS)], env);
    const [a, b, c] = [start(), start(), start()];
    await Promise.all([a, b, c].map((d) => d.waitFor(/daemon ready/, 60_000)));
    await eventually(async () => {
      const h = await holders();
      return [a, b, c].every((d) => (h.get(daemonIdOf(d))?.length ?? 0) === 10);
    }, 30_000, 'ten agents each');

    // 30 senders, sender i talks to agent i; the replies are read live.
    const senders = Array.from({ length: AGENTS }, (_, i) => new SecretKeySigner(hexToBytes((i + 1).toString(16).padStart(2, '0').repeat(32))));
    const bySender = new Map(senders.map((s) => [s.getPublicKey(), s]));
    const pool = testPool(relay.url, senders);
    const replies: Reply[] = [];
    const wraps = new Set<string>();
    const reading = new AbortController();
    const reader = (async () => {
      for await (const item of pool.req([{ kinds: [1059], '#p': [...bySender.keys()], since: Math.floor(Date.now() / 1000) - 3 * 86400, limit: 1000 }], { signal: reading.signal })) {
        if (item.type !== 'event' || wraps.has(item.event.id)) continue;
        wraps.add(item.event.id);
        const to = item.event.tags.find((t) => t[0] === 'p')?.[1];
        const signer = to ? bySender.get(to) : undefined;
        const opened = signer ? unwrapGift(item.event, signer) : undefined;
        if (!opened?.ok || !indexOf.has(opened.rumor.pubkey)) continue;
        replies.push({ at: Date.now(), agent: opened.rumor.pubkey, sender: to!, text: parseChatRumor(opened.rumor).text });
      }
    })();

    const sentAt = new Map<string, number>();
    const send = async (round: number): Promise<void> => {
      await Promise.all(
        senders.map(async (s, i) => {
          const text = `m${round} from ${i}`;
          const event = buildDirectMessage(s, agents[i]!, text)[0]!.event;
          sentAt.set(`${s.getPublicKey()}|echo: ${text}`, Date.now());
          expect((await pool.publish(event))[0]).toMatchObject({ ok: true });
        }),
      );
    };
    /** The first reply from one of `held` to a DM sent after `since`, in ms after `since`. */
    const firstAnswer = (held: number[], since: number): number | undefined => {
      const first = replies.find((r) => held.includes(indexOf.get(r.agent)!) && (sentAt.get(`${r.sender}|${r.text}`) ?? 0) >= since);
      return first ? first.at - since : undefined;
    };

    const events: string[] = [];
    let killed: { at: number; held: number[] } | undefined;
    let frozen: { at: number; held: number[] } | undefined;
    let d: CliProcess | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      await send(round);
      if (round === 2) {
        killed = { at: Date.now(), held: (await holders()).get(daemonIdOf(a)) ?? [] };
        a.child.kill('SIGKILL');
        events.push('SIGKILL a');
      }
      if (round === 4) {
        frozen = { at: Date.now(), held: (await holders()).get(daemonIdOf(b)) ?? [] };
        b.child.kill('SIGSTOP');
        events.push('SIGSTOP b');
      }
      if (round === 5) {
        await sleep(2 * LEASE_SECONDS * 1000 - 1500);
        b.child.kill('SIGCONT');
        events.push('SIGCONT b');
      }
      if (round === 6) {
        await server.stop();
        await sleep(1500);
        await server.start();
        events.push('postgres restarted');
      }
      if (round === 7) {
        d = start();
        events.push('d joins');
      }
      await sleep(1500);
    }

    const expected = new Set(sentAt.keys());
    await eventually(() => new Set(replies.map((r) => `${r.sender}|${r.text}`)).size === expected.size, 60_000, `all ${expected.size} replies (${events.join(', ')})`).catch(async (error: unknown) => {
      const got = new Set(replies.map((r) => `${r.sender}|${r.text}`));
      const missing = [...expected].filter((k) => !got.has(k)).map((k) => k.split('|')[1]);
      const h = await holders();
      const outbox = await storage!.outbox.counts();
      const pending = await storage!.inbox.agentsWithPending();
      const lines = (p: CliProcess | undefined): string => (p ? p.stderr().split('\n').filter((l) => /lease|claimed|handed|error|warn/i.test(l)).slice(-10).join('\n') : '');
      throw new Error(`${(error as Error).message}: ${missing.length} missing: ${missing.slice(0, 10).join('; ')}\nholders ${JSON.stringify([...h].map(([k, v]) => [k, v.length]))}\noutbox ${JSON.stringify(outbox)}\npending inbox agents ${pending.join(' ')}\nb:\n${lines(b)}\nc:\n${lines(c)}\nd:\n${lines(d)}`);
    });
    // Give a second reply to anything every chance to show up before counting.
    await sleep(3000);
    const counts = new Map<string, number>();
    for (const r of replies) counts.set(`${r.sender}|${r.text}`, (counts.get(`${r.sender}|${r.text}`) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...expected].sort());
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(replies).toHaveLength(AGENTS * ROUNDS);
    // Each reply came from the agent the DM went to.
    for (const r of replies) expect(indexOf.get(r.agent)).toBe(senders.findIndex((s) => s.getPublicKey() === r.sender));

    // The frozen daemon woke up to find its agents gone, and said so.
    expect(b.stderr()).toMatch(/leases lost to another daemon/);
    // The fourth daemon takes its share: 30 agents over the three that live.
    let shares = '';
    await eventually(async () => {
      const h = await holders();
      shares = [b, c, d!].map((p) => h.get(daemonIdOf(p))?.length ?? 0).join('/');
      return shares === '10/10/10';
    }, 30_000, 'ten agents each on b, c and d').catch((error: unknown) => {
      const leaseLines = (p: CliProcess): string => p.stderr().split('\n').filter((l) => /lease|claimed|handed/.test(l)).slice(-8).join('\n');
      throw new Error(`${(error as Error).message}: b/c/d hold ${shares}\nb:\n${leaseLines(b)}\nc:\n${leaseLines(c)}\nd:\n${leaseLines(d!)}`);
    });
    const listed = await runCli(['daemons', '--json', '--home', tempHome()], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const live = (JSON.parse(listed.stdout) as { daemons: Array<{ id: string; state: string; agents: number }> }).daemons.filter((x) => x.state === 'live');
    expect(live.map((x) => x.agents)).toEqual([10, 10, 10]);

    // `agent status --json` names each agent's holder (read from the database by any home pointed at it).
    const status = await runCli(['status', '--json', '--home', tempHome()], { env });
    expect(status.code, status.stderr).toBe(0);
    const held = (JSON.parse(status.stdout) as { agents: Array<{ name: string; holder?: { daemonId: string } }> }).agents;
    const liveIds = new Set([b, c, d!].map(daemonIdOf));
    expect(held).toHaveLength(AGENTS);
    for (const agent of held) expect(liveIds.has(agent.holder?.daemonId ?? ''), `${agent.name} held by ${agent.holder?.daemonId}`).toBe(true);

    const takeover = { killToFirstAnswerMs: firstAnswer(killed!.held, killed!.at), freezeToFirstAnswerMs: firstAnswer(frozen!.held, frozen!.at), leaseMs: LEASE_SECONDS * 1000 };
    console.log(`cluster takeover: ${JSON.stringify(takeover)}`);
    expect(takeover.killToFirstAnswerMs).toBeDefined();
    expect(takeover.freezeToFirstAnswerMs).toBeDefined();

    reading.abort();
    await reader.catch(() => {});
    for (const p of [b, c, d!]) expect(await p.stop('SIGTERM')).toBe(0);
    // Stopped gracefully: no daemon left registered, every lease released.
    expect((await storage.leases.census(Date.now())).daemons.filter((x) => !x.stopping && x.id !== daemonIdOf(a))).toEqual([]);
  });
});
