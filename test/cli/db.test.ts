/**
 * `agent db`: a live home's agents move from its SQLite file to PostgreSQL with `agent db copy`, and
 * the daemon, pointed at Postgres with --database, answers from the memory they had (an LLM agent
 * recalls a fact it was told on SQLite, through Postgres text search). `agent db status` on both;
 * a non-empty target is refused; bad URLs and unreachable servers give one masked line and exit 2.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TEST_MNEMONIC, startCli, stopAll, tempHome } from '../helpers/daemon.js';
import { startFakeLlmServer, type FakeLlmServer, type FakeReply, type ReceivedRequest } from '../helpers/fake-llm-server.js';
import { dropTestDatabases, freePort, freshDatabase } from '../helpers/postgres.js';

type Msg = { role: string; content: string | null; tool_calls?: Array<{ function: { name: string } }> };

/** remember on "remember that …", else recall and answer from the notes. */
function model(req: ReceivedRequest): FakeReply {
  const messages = req.body!.messages as Msg[];
  const last = messages.at(-1)!;
  if (last.role === 'user' && /^remember that /i.test(last.content ?? '')) {
    return { kind: 'reply', toolCalls: [{ name: 'remember', arguments: { text: last.content!.replace(/^remember that /i, '') } }] };
  }
  if (last.role === 'user') return { kind: 'reply', toolCalls: [{ name: 'recall', arguments: { query: 'launch' } }] };
  const called = messages.findLast((m) => m.role === 'assistant')!.tool_calls![0]!.function.name;
  if (called === 'remember') return { kind: 'reply', text: 'Noted.' };
  const facts = (JSON.parse(last.content!) as { facts: Array<{ text: string }> }).facts;
  return { kind: 'reply', text: facts.length ? `From my notes: ${facts.map((f) => f.text).join('; ')}` : 'I have no notes on that.' };
}

let server: FakeLlmServer | undefined;
afterAll(async () => {
  await stopAll();
  await server?.close();
  await dropTestDatabases();
});

describe('agent db', () => {
  it('copies a live home to PostgreSQL; the agent keeps answering from its memory there', { timeout: 120_000 }, async () => {
    server = await startFakeLlmServer({ handler: model });
    const home = tempHome();
    const env = { AGENT_MNEMONIC: TEST_MNEMONIC, AGENT_LLM_BASE_URL: server.baseUrl, AGENT_LLM_MODEL: 'fake-model' };
    const send = async (text: string, database?: string): Promise<string> => {
      const r = await runCli(['send', 'launchbot', text, '--home', home, '--timeout', '30', ...(database ? ['--database', database] : [])], { env, timeoutMs: 40_000 });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };

    // One relay port for both daemons: the agent's relay list names it.
    const port = String(await freePort());
    const up = startCli(['up', '--home', home, '--port', port], env);
    await up.waitFor(/agent up: ready/);
    const created = await runCli(['create', 'launchbot', '--behavior', 'llm', '--tools', 'remember,recall', '--home', home], { env });
    expect(created.code, created.stderr).toBe(0);
    expect(await send('remember that the launch is on Friday')).toBe('Noted.');
    expect(await up.stop('SIGINT')).toBe(0);

    const pg = await freshDatabase('dbcopy');
    const masked = pg.replace(/:[^:@/]+@/, ':***@');
    const sqlite = `sqlite:${join(home, 'agents.db')}`;
    const copy = await runCli(['db', 'copy', '--from', sqlite, '--to', pg, '--json'], { env });
    expect(copy.code, copy.stderr).toBe(0);
    const report = JSON.parse(copy.stdout) as { to: string; rows: Record<string, number> };
    expect(report.to).toBe(masked);
    expect(report.rows).toMatchObject({ facts: 1 });
    expect(report.rows.agents).toBeGreaterThanOrEqual(1);
    expect(copy.stdout + copy.stderr).not.toContain('test-password');

    const again = await runCli(['db', 'copy', '--from', sqlite, '--to', pg], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not empty \(agents: \d+.*\); use --force/);

    const status = await runCli(['db', 'status', '--home', home, '--database', pg, '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ engine: 'postgres', url: masked, rows: { agents: report.rows.agents, facts: 1 } });
    const sqliteStatus = await runCli(['db', 'status', '--home', home], { env });
    expect(sqliteStatus.stdout).toMatch(/engine\s+sqlite/);

    // The daemon on Postgres: the keys and config stay in the home, the memory is in the server.
    const onPg = startCli(['up', '--home', home, '--port', port, '--database', pg], env);
    await onPg.waitFor(/agent up: ready/);
    expect(await send('when is the launch?', pg)).toBe('From my notes: the launch is on Friday');
    const list = await runCli(['list', '--home', home, '--database', pg, '--json'], { env });
    expect(list.stdout).toContain('launchbot');
    expect(await onPg.stop('SIGINT')).toBe(0);
    expect(onPg.stdout() + onPg.stderr()).not.toContain('test-password');
  });

  it('says which database it cannot open, password masked, and exits 2', async () => {
    const home = tempHome();
    const unreachable = `postgres://agent:s3cret-pw@127.0.0.1:${await freePort()}/agents`;
    for (const [args, pattern] of [
      [['list', '--database', unreachable], /^agent: database postgres:\/\/agent:\*\*\*@127\.0\.0\.1:\d+\/agents: server unreachable/],
      [['db', 'status', '--database', 'mysql://x@y/z'], /names no supported engine/],
    ] as const) {
      const r = await runCli([...args, '--home', home]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toContain('s3cret-pw');
    }
    const viaEnv = await runCli(['list', '--home', home, '--json'], { env: { AGENT_DATABASE_URL: unreachable } });
    expect(viaEnv.code).toBe(2);
    expect(JSON.parse(viaEnv.stderr)).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
  });
});
