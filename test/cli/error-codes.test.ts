/**
 * Stable error codes: every code has a row in the README's table (and the table names no other),
 * CLI errors with --json are one {"error","code"} object on stderr, and control API errors carry
 * their code through the client.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/util/errors.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { stopAll, tempHome } from '../helpers/daemon.js';

afterAll(stopAll);

describe('error codes', () => {
  it('are all listed in the README table, which lists nothing else', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('\n## ', readme.indexOf('## Error codes') + 1));
    const listed = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('come with every CLI error under --json, as one JSON object on stderr', async () => {
    const home = tempHome();
    const cases: Array<[string[], number, string]> = [
      [['status', 'ghost', '--json'], 2, 'AGENT_NOT_FOUND'],
      [['watch', 'ghost', '--json'], 2, 'USAGE'],
      [['nosuchcommand', '--json'], 2, 'USAGE'],
    ];
    for (const [args, code, errorCode] of cases) {
      const r = await runCli([...args, '--home', home], { env: { AGENT_MNEMONIC: 'leader monkey parrot ring guide accident before fence cannon height naive bean' } });
      expect(r.code).toBe(code);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toEqual({ error: expect.any(String), code: errorCode });
    }
    // Without --json the same error stays one readable line.
    const plain = await runCli(['status', 'ghost', '--home', home]);
    expect(plain.stderr).toBe('agent: no agent named "ghost"\n');
  });
});
