// Cold start in interleaved rounds: spawn to the first 200 on GET / with
// `-w 2` on examples/test.js, corral against node:cluster one after the other
// in every round, so the machine's drifts hit both alike; prints the medians,
// their ratio, and the CPU the server's whole process tree had used by its
// first 200 (steadier than the wall time on a busy machine).
//
// Usage: node bench/cold-start.mjs [rounds=20] [corral-checkout …]
// Each extra checkout (a built copy of corral, e.g. an older commit) is run in
// the same rounds, so two builds can be compared on the same machine minutes.
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installCleanup } from './lib/cleanup.mjs';
import { treeCpuSeconds } from './lib/cpu.mjs';
import { median } from './lib/stats.mjs';
import { COLD_START_POLL_MS } from './lib/cold-start.mjs';
import { ROOT, TARGETS, startTarget } from './lib/targets.mjs';

const rounds = Number.parseInt(process.argv[2] ?? '20', 10);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`invalid round count: ${process.argv[2]}`);
  process.exit(2);
}
const scenario = { app: 'examples/test.js' };
const corral = TARGETS.corral(scenario);
const targets = [
  { ...corral, label: 'corral (this checkout)' },
  ...process.argv.slice(3).map((checkout) => ({
    ...corral,
    key: `corral@${checkout}`,
    label: `corral (${checkout})`,
    args: [resolve(checkout, corral.args[0]), ...corral.args.slice(1)],
  })),
  TARGETS['cluster-rr'](scenario),
];

installCleanup();
const times = new Map(targets.map((target) => [target.key, []]));
const cpu = new Map(targets.map((target) => [target.key, []]));
for (let round = 1; round <= rounds; round += 1) {
  const line = [];
  for (const target of targets) {
    const server = await startTarget(target, { pollIntervalMs: COLD_START_POLL_MS });
    times.get(target.key).push(server.spawnToReadyMs);
    // Read at once: the tree is still whole (/proc times are in 10 ms ticks, so medians over many rounds).
    cpu.get(target.key).push(treeCpuSeconds(server.pid) * 1000);
    line.push(`${target.key} ${server.spawnToReadyMs.toFixed(0)}`);
    await server.stop();
    await sleep(200); // let the previous tree be fully reaped before the next spawn
  }
  console.error(`round ${round}/${rounds}: ${line.join(', ')}`);
}

const cluster = median(times.get('cluster-rr'));
console.log(`cold start, median of ${rounds} interleaved rounds (cwd ${ROOT}):`);
for (const target of targets) {
  const ms = median(times.get(target.key));
  const cpuMs = median(cpu.get(target.key));
  console.log(`  ${target.label.padEnd(40)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / cluster).toFixed(2)}× node:cluster   server CPU by the first 200: ${cpuMs.toFixed(0)} ms`);
}
