/**
 * `agent run` and every other non-UI command must never load React or Ink: follows the STATIC
 * import graph of the compiled CLI (dist/, built by `npm run build`) from main.js and from each
 * command module, and checks that no chain reaches `react` or `ink`. `agent chat` reaches them only
 * through a dynamic import().
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const DIST = join(ROOT, 'dist/src');
// Static `import … from '…'`, `export … from '…'` and bare `import '…'` (tsc has erased type-only imports).
const STATIC = /(?:^|[;\n])\s*(?:import|export)\s+(?:[\w$*{}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module reachable by static imports from `entry`: relative files, and bare package names. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string>; via: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const via = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC)) {
      if (!spec) continue;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (!via.has(target)) via.set(target, file);
        queue.push(target);
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
        if (!packages.has(name)) via.set(name, file);
        packages.add(name);
      }
    }
  }
  return { files, packages, via };
}

const UI = ['react', 'ink'];

describe('lazy loading of the terminal UI', () => {
  if (!existsSync(join(DIST, 'cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const commands = readdirSync(join(DIST, 'cli/commands')).filter((f) => f.endsWith('.js'));

  it('the scanner sees React and Ink from the UI entry (so a miss below means something)', () => {
    const { packages, files } = staticGraph(join(DIST, 'tui/run.js'));
    expect(packages).toContain('ink');
    expect(packages).toContain('react');
    expect([...files].some((f) => f.endsWith('tui/App.js'))).toBe(true);
  });

  it('no static import chain from the CLI entry or any command reaches react or ink', () => {
    expect(commands).toEqual(expect.arrayContaining(['chat.js', 'keys.js', 'run.js', 'up.js']));
    for (const entry of ['main.js', ...commands.map((c) => `commands/${c}`)]) {
      const { packages, via } = staticGraph(join(DIST, 'cli', entry));
      for (const ui of UI) expect(packages.has(ui), `${entry} loads ${ui} (imported by ${via.get(ui)})`).toBe(false);
    }
  });

  it('agent chat loads the UI with a dynamic import', () => {
    const source = readFileSync(join(DIST, 'cli/commands/chat.js'), 'utf8');
    expect([...source.matchAll(DYNAMIC)].map((m) => m[1])).toContain('../../tui/run.js');
    const main = readFileSync(join(DIST, 'cli/main.js'), 'utf8');
    expect([...main.matchAll(DYNAMIC)].map((m) => m[1])).toContain('./commands/chat.js');
  });
});
