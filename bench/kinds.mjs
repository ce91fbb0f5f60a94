// Benchmark of worker kinds, side by side in one run:
//  1. an app that blocks 10 ms per request: corral -k thread (-w 2 --threads 8)
//     against -k async and -k sync (-w 2), and gunicorn's gthread worker
//     (-w 2 --threads 8, the same handler as WSGI) when gunicorn is installed;
//  2. hello world: every kind -w 2 against node:cluster with 2 workers;
//  3. the RSS of thread-kind workers holding 8 threads.
// Usage: npm run bench:kinds   (env: BENCH_SECONDS=5, BENCH_ROUNDS=2)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortAfter, machineFacts, positiveInt } from './lib/run-facts.mjs';
import { installCleanup } from './lib/cleanup.mjs';
import { runInterleavedRounds } from './lib/interleaved-rounds.mjs';
import { renderKindsReport } from './lib/kinds-report.mjs';
import { AUTOCANNON_VERSION, failedTotal, startLoad } from './lib/reload-load.mjs';
import { identify } from './lib/procs.mjs';
import { treeRss } from './lib/rss.mjs';
import { startServer } from './lib/start-server.mjs';
import { summariseRounds } from './lib/stats.mjs';
import { ROOT } from './lib/targets.mjs';

const CLI = 'dist/src/cli/main.js';
const CORRAL_PORT_LINE = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/;
const PEER_PORT_LINE = /^LISTENING (\d+)$/;
const DURATION_SEC = positiveInt('BENCH_SECONDS', 5);
const ROUNDS = positiveInt('BENCH_ROUNDS', 2);
// Each pool thread is its own V8 isolate and warms up on its own: the thread kind needs ~3 s to reach its pace.
const WARMUP_SEC = 3;
const IDLE_SEC = 2;

const log = (message) => console.error(`bench: ${message}`);

/** Which kinds this build of corral has, from its --help. */
function corralKinds() {
  const help = spawnSync(process.execPath, [CLI, '--help'], { cwd: ROOT, encoding: 'utf8' });
  return (/Kinds: ([^.]+)\./.exec(help.stdout + help.stderr)?.[1] ?? '').split(/,\s*/);
}

const gunicornMissing = () => {
  const probe = spawnSync('gunicorn', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? null : 'gunicorn is not installed (apt-get install gunicorn)';
};

const corral = (key, label, args) => ({ key, label, args: [CLI, '-b', '127.0.0.1:0', ...args], portPattern: CORRAL_PORT_LINE });
const peer = (key, label, args, missing) => ({ key, label, args, portPattern: PEER_PORT_LINE, missing });

function scenarios(kinds) {
  const kindMissing = (kind) => () => (kinds.includes(kind) ? null : `this build has no ${kind} kind`);
  return [
    {
      key: 'blocking',
      title: 'Blocking app: every request blocks its thread 10 ms (bench/apps/blocking.mjs)',
      connections: 64,
      targets: [
        { ...corral('thread', 'corral -k thread -w 2 --threads 8', ['-k', 'thread', '-w', '2', '--threads', '8', 'bench/apps/blocking.mjs']), missing: kindMissing('thread') },
        corral('async', 'corral -k async -w 2', ['-k', 'async', '-w', '2', 'bench/apps/blocking.mjs']),
        { ...corral('sync', 'corral -k sync -w 2', ['-k', 'sync', '-w', '2', 'bench/apps/blocking.mjs']), missing: kindMissing('sync') },
        peer('gthread', 'gunicorn -k gthread -w 2 --threads 8 (WSGI, time.sleep)', ['bench/peers/gunicorn.mjs', 'gthread', '2', '8', 'blocking_wsgi:app'], gunicornMissing),
      ],
      ratios: [
        { of: 'thread', to: 'async', target: 6 },
        { of: 'thread', to: 'sync' },
        { of: 'thread', to: 'gthread' },
      ],
      // Each of 16 threads can serve at most 1000 / 10 = 100 req/s.
      ceiling: 'thread: 2 workers × 8 threads × 100 req/s = 1600 req/s; async and sync: 2 × 100 = 200 req/s',
    },
    {
      key: 'hello',
      title: 'Hello world (examples/test.js), every kind -w 2 against node:cluster -w 2',
      connections: 50,
      targets: [
        corral('async', 'corral -k async -w 2', ['-k', 'async', '-w', '2', 'examples/test.js']),
        { ...corral('sync', 'corral -k sync -w 2', ['-k', 'sync', '-w', '2', 'examples/test.js']), missing: kindMissing('sync') },
        // What a new connection per request costs by itself, as sync's Connection: close imposes: the ceiling for sync.
        corral('async-close', 'corral -k async -w 2 --keep-alive 0 (a connection per request)', ['-k', 'async', '-w', '2', '--keep-alive', '0', 'examples/test.js']),
        { ...corral('thread', 'corral -k thread -w 2 (node-style app, in-thread request/response)', ['-k', 'thread', '-w', '2', 'examples/test.js']), missing: kindMissing('thread') },
        { ...corral('thread-fetch', 'corral -k thread -w 2 (the same app fetch-style)', ['-k', 'thread', '-w', '2', 'bench/apps/hello-fetch.mjs']), missing: kindMissing('thread') },
        peer('cluster', 'node:cluster, 2 workers (RR)', ['bench/peers/cluster.mjs', '2']),
      ],
      ratios: [
        { of: 'async', to: 'cluster', target: 1.0 },
        { of: 'sync', to: 'cluster', target: 0.3 },
        { of: 'sync', to: 'async-close' },
        { of: 'thread', to: 'cluster', target: 0.7 },
        { of: 'thread-fetch', to: 'cluster', target: 0.7 },
      ],
    },
  ];
}

/**
 * One run. The client honours `Connection: close` as any HTTP/1.1 client does
 * (autocannon alone writes its next request on the closing connection and
 * waits on it, which turns the sync kind's every response into a stall).
 */
async function runLoad(port, { connections, durationSec }) {
  const counts = await startLoad(port, { connections, durationSec }).done;
  return { rps: counts.rps, p50: counts.p50, p99: counts.p99, errors: failedTotal(counts) };
}

async function measureScenario(scenario, results) {
  const section = { title: scenario.title, connections: scenario.connections, ceiling: scenario.ceiling, ratios: scenario.ratios, targets: [] };
  results.scenarios.push(section);
  const running = [];
  try {
    for (const target of scenario.targets) {
      const entry = { key: target.key, label: target.label, rounds: [] };
      section.targets.push(entry);
      const missing = target.missing?.();
      if (missing) {
        entry.skipped = missing;
        log(`skipping ${target.label}: ${missing}`);
        continue;
      }
      log(`starting ${target.label}`);
      try {
        const server = await startServer({ name: target.key, args: target.args, portPattern: target.portPattern, cwd: ROOT });
        running.push({ entry, server, ident: identify(server.pid) });
      } catch (error) {
        entry.error = error.message;
        results.problems.push(error.message);
        log(`FAILED ${error.message}`);
      }
    }
    await sleep(IDLE_SEC * 1000);
    for (const { entry, server } of running) entry.idleRss = treeRss(server.pid);

    const load = { connections: scenario.connections, pipelining: 1, durationSec: DURATION_SEC };
    await runInterleavedRounds(running, { rounds: ROUNDS, load, warmupSec: WARMUP_SEC, measure: runLoad, scenario: scenario.key, problems: results.problems, log });
    for (const { entry, server } of running) entry.loadedRss = treeRss(server.pid);
  } finally {
    for (const { entry, server } of running) {
      const stopped = await server.stop();
      if (stopped.forced) results.problems.push(`${entry.key}: ignored SIGTERM for 10 s, SIGKILLed`);
    }
  }
  section.targets.forEach(summariseRounds);
}

async function main() {
  installCleanup();
  const kinds = corralKinds();
  const all = scenarios(kinds);
  const budgetSec = 120 + all.reduce((sum, s) => sum + s.targets.length, 0) * ROUNDS * (WARMUP_SEC + DURATION_SEC + 5);
  abortAfter(budgetSec, log);

  const results = {
    ...machineFacts(),
    autocannon: AUTOCANNON_VERSION,
    durationSec: DURATION_SEC,
    warmupSec: WARMUP_SEC,
    rounds: ROUNDS,
    idleSec: IDLE_SEC,
    kinds,
    scenarios: [],
    problems: [],
  };
  for (const scenario of all) await measureScenario(scenario, results);

  const report = renderKindsReport(results);
  console.log(`\n${report}`);
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('kinds.md', dir), report);
  log('results written to bench/results/kinds.md');
  return results;
}

main().then(
  (results) => {
    process.exitCode = results.problems.length > 0 ? 1 : 0;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
