/**
 * bench/run-all: runs every benchmark in turn as its own process (so one's memory and threads do
 * not skew the next) and passes their JSON lines through. `npm run bench` (BENCH_ONLY=keys,relay
 * to pick some). Each script is described in bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ALL = ['keys', 'sign', 'relay', 'dm-receive', 'dm-roundtrip', 'dm-throughput', 'daemon-rss', 'storage'];
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((name) => !ALL.includes(name)) ?? [];
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  process.exit(2);
}
let failed = 0;
for (const name of only ?? ALL) {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  console.error(`bench: ${name}`);
  const result = spawnSync(process.execPath, [script], { stdio: 'inherit', timeout: 15 * 60_000 });
  if (result.status !== 0) {
    failed++;
    console.error(`bench: ${name} exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
