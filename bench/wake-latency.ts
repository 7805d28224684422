/**
 * The wake half of bench/daemon-rss: with the daemon holding every agent dormant, poke distinct
 * agents one by one through the control API and time trigger committed (the inbox row's created_at)
 * → tick.started, → agent.woke and → tick.finished (the daemon's own clock, ms resolution), plus what
 * a control client observes. A control-API round trip is timed alongside as the HTTP reference.
 */
import { connectControl, type ControlClient } from '../src/control/client.js';
import type { RuntimeEvent } from '../src/runtime/events.js';
import type { TickRecord } from '../src/trajectory/types.js';
import { openDatabase, type Db } from '../src/storage/sqlite/database.js';
import type { SqliteAgentStorage } from '../src/storage/sqlite/sqlite-agent-storage.js';
import { percentile, progress, round, waitFor } from './child-processes.js';

/** Pokes WAKES distinct dormant agents one after another; each tick finishes before the next poke. */
export async function wakeLatency(home: string, dbFile: string, storage: SqliteAgentStorage, options: { wakes: number; goalP50Ms: number }): Promise<void> {
  const client = await connectControl(home, 5000);
  if (!client) throw new Error('the daemon control API did not answer');
  const agents = await storage.agents.list();
  const stream = new EventStream(client);
  const db: Db = openDatabase(dbFile, { readonly: true });
  const createdAt = db.prepare<[number], { created_at: number }>('SELECT created_at FROM inbox WHERE id = ?');
  const state = db.prepare<[number], { state: string }>('SELECT state FROM agents WHERE agent_index = ?');
  const outboxPending = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM outbox WHERE status = 'pending'");
  try {
    // The stream is live once a warm-up poke's tick.started comes through (agent 0 is kept out of the picks).
    const warmup = agents[0]!;
    await waitFor('the control event stream', async () => {
      await client.poke(warmup.name, 'warm-up');
      return stream.next((e) => e.type === 'tick.started' && e.agent === warmup.pubkey, 1000).then(() => true, () => false);
    }, 15_000, 0);
    const rtt: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await client.agent(agents[i % agents.length]!.name);
      rtt.push(performance.now() - t);
    }
    const picks = shuffled(agents.length, 0x5eed).filter((i) => i !== 0).slice(0, options.wakes);
    const started: number[] = [];
    const woke: number[] = [];
    const finished: number[] = [];
    const client2started: number[] = [];
    const pokeResponse: number[] = [];
    const tickMs: number[] = [];
    let wasDormant = 0;
    progress(`waking ${picks.length} dormant agents one by one`);
    for (const [k, index] of picks.entries()) {
      const agent = agents[index]!;
      // Quiet daemon: the previous reply published (outbox drained), nothing pending.
      await waitFor('the outbox to drain', () => outboxPending.get()?.n === 0, 30_000, 5);
      if (state.get(agent.index)?.state === 'dormant') wasDormant++;
      const sent = performance.now();
      const { inboxId } = await client.poke(agent.name, `wake ${k}`);
      pokeResponse.push(performance.now() - sent);
      const tickStarted = await stream.next((e) => e.type === 'tick.started' && e.agent === agent.pubkey, 10_000);
      const tickWoke = await stream.next((e) => e.type === 'agent.woke' && e.agent === agent.pubkey, 10_000);
      const tickFinished = await stream.next((e) => e.type === 'tick.finished' && e.agent === agent.pubkey, 10_000);
      const committed = createdAt.get(inboxId)?.created_at;
      if (committed === undefined) throw new Error(`inbox row ${inboxId} not found`);
      started.push(tickStarted.event.at - committed);
      woke.push(tickWoke.event.at - committed);
      finished.push(tickFinished.event.at - committed);
      const record: TickRecord = (tickFinished.event as Extract<RuntimeEvent, { type: 'tick.finished' }>).record;
      tickMs.push(record.endedAt - record.startedAt);
      client2started.push(tickStarted.receivedAt - sent);
    }
    const stats = (xs: number[]): { p50: number; p99: number; max: number } => ({ p50: round(percentile(xs, 0.5)), p99: round(percentile(xs, 0.99)), max: round(Math.max(...xs)) });
    const s = stats(started);
    console.log(
      JSON.stringify({
        bench: 'daemon-wake',
        agents: agents.length,
        wakes: picks.length,
        wasDormant,
        resolutionMs: 1,
        committedToTickStartedMs: s,
        committedToWokeMs: stats(woke),
        committedToTickFinishedMs: stats(finished),
        tickRecordMs: stats(tickMs),
        clientPokeResponseMs: stats(pokeResponse),
        clientPokeToTickStartedEventMs: stats(client2started),
        goalP50Ms: options.goalP50Ms,
        withinGoal: s.p50 < options.goalP50Ms,
      }),
    );
    console.log(JSON.stringify({ bench: 'daemon-wake-baseline-http', what: 'control API GET /v1/agents/:name round trip', n: rtt.length, ...stats(rtt) }));
  } finally {
    stream.close();
    db.close();
  }
}

/** Deterministic Fisher–Yates over 0..n-1 (same picks every run). */
function shuffled(n: number, seed: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  let x = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The daemon's SSE stream, buffered, with arrival times; `next` takes the first matching event. */
class EventStream {
  readonly #controller = new AbortController();
  readonly #buffer: Array<{ event: RuntimeEvent; receivedAt: number }> = [];
  #wake: () => void = () => {};

  constructor(client: ControlClient) {
    void (async () => {
      try {
        for await (const event of client.events({ signal: this.#controller.signal })) {
          this.#buffer.push({ event, receivedAt: performance.now() });
          this.#wake();
        }
      } catch {
        // aborted on close
      }
    })();
  }

  async next<T extends RuntimeEvent>(match: (e: RuntimeEvent) => boolean, timeoutMs: number): Promise<{ event: T; receivedAt: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#buffer.findIndex((b) => match(b.event));
      if (i >= 0) return this.#buffer.splice(i, 1)[0] as { event: T; receivedAt: number };
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching runtime event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.#controller.abort();
  }
}
