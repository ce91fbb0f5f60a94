// The dirty pool against inline work, side by side in one run: an app doing
// 5 ms of CPU per request on the async kind's event loop (-w 2) against the
// same work sent to the dirty pool (-w 2 --dirty-workers 2). Per target:
// req/s, p50/p99, server CPU per request (the whole process tree, from /proc),
// and the latency of a request that does no work (`/fast`) while the load runs.
// Usage: npm run build && node bench/dirty.mjs   (env: BENCH_SECONDS=5, BENCH_ROUNDS=3)
import http from 'node:http';
import autocannon from 'autocannon';
import { installCleanup } from './lib/cleanup.mjs';
import { treeCpuSeconds } from './lib/cpu.mjs';
import { machineFacts, positiveInt } from './lib/run-facts.mjs';
import { startServer } from './lib/start-server.mjs';
import { median } from './lib/stats.mjs';
import { ROOT } from './lib/targets.mjs';

const CLI = 'dist/src/cli/main.js';
const PORT_LINE = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/;
const SECONDS = positiveInt('BENCH_SECONDS', 5);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const CONNECTIONS = 32;
const log = (message) => console.error(`bench: ${message}`);

const targets = [
  { key: 'inline', label: 'corral -w 2, 5 ms CPU inline (async kind)', args: [CLI, '-b', '127.0.0.1:0', '-w', '2', 'bench/apps/dirty-work.mjs'], env: { BENCH_DIRTY: '0' } },
  {
    key: 'dirty',
    label: 'corral -w 2 --dirty-workers 2, 5 ms CPU through dirty.execute()',
    args: [CLI, '-b', '127.0.0.1:0', '-w', '2', '--dirty-app', 'bench/apps/dirty-work-model.mjs', '--dirty-workers', '2', 'bench/apps/dirty-work.mjs'],
    env: { BENCH_DIRTY: '1' },
  },
];

const fastLatency = (port) =>
  new Promise((resolve) => {
    const started = performance.now();
    http.get({ host: '127.0.0.1', port, path: '/fast', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    }).on('error', () => resolve(NaN));
  });

async function measure(server, durationSec) {
  const cpuBefore = treeCpuSeconds(server.pid);
  const probes = [];
  let probing = true;
  const probeLoop = (async () => {
    while (probing) {
      probes.push(await fastLatency(server.port));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const result = await autocannon({ url: `http://127.0.0.1:${server.port}/`, connections: CONNECTIONS, duration: durationSec });
  probing = false;
  await probeLoop;
  const cpu = treeCpuSeconds(server.pid) - cpuBefore;
  const served = result.requests.total;
  return {
    rps: result.requests.mean,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuPerRequestUs: served > 0 ? (cpu * 1e6) / served : NaN,
    fastP50: median(probes.filter(Number.isFinite)),
  };
}

installCleanup();
const running = [];
try {
  for (const target of targets) {
    const server = await startServer({ name: target.key, args: target.args, portPattern: PORT_LINE, cwd: ROOT, env: target.env, readyDeadlineMs: 20_000 });
    running.push({ target, server, rounds: [] });
  }
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const entry of running) {
      log(`round ${round}/${ROUNDS}: ${entry.target.label}`);
      await measure(entry.server, 2); // warm-up
      const measured = await measure(entry.server, SECONDS);
      entry.rounds.push(measured);
      log(`  ${measured.rps.toFixed(0)} req/s, ${measured.cpuPerRequestUs.toFixed(0)} µs CPU/req, p50 ${measured.p50} ms, p99 ${measured.p99} ms, /fast p50 ${measured.fastP50.toFixed(1)} ms, errors ${measured.errors}`);
    }
  }
} finally {
  for (const { server } of running) await server.stop();
}

const facts = machineFacts();
const pick = (entry, key) => median(entry.rounds.map((round) => round[key]));
const lines = [
  `# Dirty pool: 5 ms of CPU per request, inline vs through the dirty pool`,
  '',
  `${facts.date}, node ${facts.node}, ${facts.cpus} × ${facts.cpuModel}, load ${facts.loadAvg.map((n) => n.toFixed(2)).join(' ')}; autocannon ${CONNECTIONS} connections, ${SECONDS} s × ${ROUNDS} interleaved rounds, medians.`,
  '',
  '| target | req/s | p50 ms | p99 ms | server CPU µs/req | `/fast` p50 ms under load | errors |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...running.map((entry) =>
    `| ${entry.target.label} | ${pick(entry, 'rps').toFixed(0)} | ${pick(entry, 'p50')} | ${pick(entry, 'p99')} | ${pick(entry, 'cpuPerRequestUs').toFixed(0)} | ${pick(entry, 'fastP50').toFixed(1)} | ${entry.rounds.reduce((sum, r) => sum + r.errors, 0)} |`,
  ),
  '',
  `ratio dirty/inline req/s: ${(pick(running[1], 'rps') / pick(running[0], 'rps')).toFixed(2)}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
