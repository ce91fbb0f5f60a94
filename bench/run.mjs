// The bench suite: every scenario against the peers available on this machine,
// side by side in one run, interleaved rounds, medians, ratios to node:cluster;
// writes bench/results/latest.md and one SVG chart per scenario.
// Load: Debian's wrk pinned to one core; beside req/s, the server CPU per request
// (user+system time of the target's whole process tree from /proc, over the
// measured window, divided by the requests served), which does not depend on
// how much CPU the load generator takes. Ends with each target's verdict.
// Usage: npm run bench   (env: BENCH_SECONDS=5, BENCH_ROUNDS=3, BENCH_ONLY=hello,blocking,…)
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { installCleanup, killAllSync } from './lib/cleanup.mjs';
import { runInterleavedRounds } from './lib/interleaved-rounds.mjs';
import { measureColdStarts } from './lib/cold-start.mjs';
import { withServerCpu } from './lib/cpu.mjs';
import { WRK_CORE, runWrk, wrkVersion } from './lib/wrk.mjs';
import { verdicts } from './lib/verdicts.mjs';
import { identify } from './lib/procs.mjs';
import { installPm2, startPm2Cluster } from './lib/reload-pm2.mjs';
import { treeRss } from './lib/rss.mjs';
import { abortAfter, machineFacts, positiveInt } from './lib/run-facts.mjs';
import { summariseRounds } from './lib/stats.mjs';
import { renderSuiteReport } from './lib/suite-report.mjs';
import { barChart } from './lib/svg-chart.mjs';
import { ACCESS_LOG_FILE, ROOT, TARGETS, startTarget } from './lib/targets.mjs';

const SECONDS = positiveInt('BENCH_SECONDS', 5);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const WARMUP_SEC = 2;
const IDLE_SEC = 2;
const COLD_START_RUNS = 10;
const IDLE_CONNECTIONS = 2000;
const RESULTS_DIR = new URL('./results/', import.meta.url);
const log = (message) => console.error(`bench: ${message}`);

const SCENARIOS = [
  {
    key: 'hello',
    title: 'Hello world',
    about: '`examples/test.js` (`200 text/plain "Hello, World!"`); gunicorn serves the same as WSGI.',
    app: 'examples/test.js',
    wsgi: 'hello_wsgi:app',
    connections: 50,
    targets: ['corral', 'corral-accesslog', 'corral-thread', 'cluster-rr', 'cluster-none', 'single', 'pm2', 'gunicorn-sync', 'gunicorn-gthread'],
    rss: true,
  },
  {
    key: 'close',
    title: 'Hello world, a connection per request',
    about: '`examples/test.js`; every request sends `Connection: close`, so each is a new connection (what the sync kind serves).',
    app: 'examples/test.js',
    wsgi: 'hello_wsgi:app',
    connections: 16,
    close: true,
    targets: ['corral-sync', 'corral', 'cluster-rr', 'single', 'gunicorn-sync'],
  },
  {
    key: 'blocking',
    title: 'A handler that blocks 10 ms',
    about: '`bench/apps/blocking.mjs` parks its thread 10 ms a request (`Atomics.wait`; gunicorn: `time.sleep`), as a synchronous driver would.',
    app: 'bench/apps/blocking.mjs',
    wsgi: 'blocking_wsgi:app',
    connections: 64,
    targets: ['corral-thread', 'corral', 'cluster-rr', 'pm2', 'gunicorn-sync', 'gunicorn-gthread'],
  },
  {
    key: 'large',
    title: '100 KB responses',
    about: '`bench/apps/large.mjs` answers every GET with 100 KB.',
    app: 'bench/apps/large.mjs',
    wsgi: 'large_wsgi:app',
    connections: 50,
    targets: ['corral', 'cluster-rr', 'single', 'pm2', 'gunicorn-sync', 'gunicorn-gthread'],
  },
  {
    key: 'post',
    title: 'POST of 1 MB bodies',
    about: '`bench/apps/upload.mjs` reads each 1 MB body to the end and answers its length.',
    app: 'bench/apps/upload.mjs',
    wsgi: 'upload_wsgi:app',
    connections: 16,
    method: 'POST',
    body: Buffer.alloc(1 << 20, 'x'),
    targets: ['corral', 'cluster-rr', 'single', 'pm2', 'gunicorn-sync', 'gunicorn-gthread'],
  },
  {
    key: 'idle',
    title: `Hello world with ${IDLE_CONNECTIONS.toLocaleString('en-US')} idle keep-alive connections held`,
    about: `${IDLE_CONNECTIONS} clients each send one request and keep their connection open (servers keep idle connections 120 s) while the load runs beside them; memory is in the table below.`,
    app: 'examples/test.js',
    connections: 50,
    keepAlive: 120,
    idle: IDLE_CONNECTIONS,
    wsgi: 'hello_wsgi:app',
    targets: ['corral', 'cluster-rr', 'single', 'pm2', 'gunicorn-gthread'],
    rss: true,
  },
];

const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const BALANCE = 'balance';
for (const key of ONLY) {
  if (key !== BALANCE && !SCENARIOS.some((s) => s.key === key)) {
    console.error(`BENCH_ONLY: unknown scenario '${key}'; scenarios: ${[...SCENARIOS.map((s) => s.key), BALANCE].join(', ')}`);
    process.exit(2);
  }
}
const SELECTED = ONLY.length ? SCENARIOS.filter((s) => ONLY.includes(s.key)) : SCENARIOS;

/** PM2 is installed once, on first use, into a scratch directory; a failure is remembered as the reason to skip. */
let pm2Install;
const pm2 = () => (pm2Install ??= installPm2());

async function start(target) {
  if (!target.pm2) return startTarget(target);
  const installed = await pm2();
  const server = await startPm2Cluster({ dir: installed.dir, cwd: ROOT, instances: 2, app: target.app, keepAlive: target.keepAlive });
  server.version = installed.version;
  return server;
}

/** Opens `count` keep-alive connections, each after one answered GET, and holds them. */
async function holdIdle(port, count) {
  const sockets = [];
  for (let index = 0; index < count; index += 1) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
    sockets.push(socket);
    if (index % 200 === 199) await sleep(20);
  }
  await sleep(500);
  return { open: () => sockets.filter((s) => !s.destroyed).length, close: () => sockets.forEach((s) => s.destroy()) };
}

async function countLines(path) {
  if (!existsSync(path)) return null;
  let lines = 0;
  for await (const chunk of createReadStream(path)) for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
  return { lines, bytes: statSync(path).size };
}

async function measureScenario(scenario, results) {
  const section = { key: scenario.key, title: scenario.title, about: scenario.about, connections: scenario.connections, targets: [] };
  results.scenarios.push(section);
  const running = [];
  try {
    for (const key of scenario.targets) {
      const target = TARGETS[key](scenario);
      if (!target) continue;
      const entry = { key, label: target.label, rounds: [], notes: [] };
      section.targets.push(entry);
      log(`${scenario.key}: starting ${target.label}`);
      try {
        const server = await start(target);
        if (server.version) entry.notes.push(`PM2 ${server.version}`);
        running.push({ entry, server, ident: identify(server.pid) });
      } catch (error) {
        // Peers that cannot be had here are skipped with the reason; corral failing to start is a problem.
        const message = error.message ?? String(error);
        if (key.startsWith('corral') || key.startsWith('cluster') || key === 'single') {
          entry.error = message;
          results.problems.push(message);
        } else entry.skipped = message;
        log(`  ${entry.error ? 'FAILED' : 'skipped'}: ${message}`);
      }
    }
    if (scenario.rss) {
      await sleep(IDLE_SEC * 1000);
      for (const { entry, server } of running) if (scenario.key === 'hello' && !entry.key.startsWith('gunicorn')) results.rss[entry.key] = { label: entry.label, ...treeRss(server.pid) };
    }
    const idle = new Map();
    if (scenario.idle) for (const { entry, server } of running) idle.set(entry.key, await holdIdle(server.port, scenario.idle));

    const load = { connections: scenario.connections, durationSec: SECONDS, method: scenario.method, body: scenario.body, close: scenario.close };
    const measure = (port, options, server) => withServerCpu(server.pid, () => runWrk(port, options));
    await runInterleavedRounds(running, { rounds: ROUNDS, load, warmupSec: WARMUP_SEC, measure, scenario: scenario.key, problems: results.problems, log });
    for (const { entry, server } of running) {
      const held = idle.get(entry.key);
      if (!held) continue;
      entry.notes.push(`${held.open()} of ${scenario.idle} idle connections still open after the load`);
      results.rss[`${entry.key} (idle)`] = { label: `${entry.label}, ${scenario.idle} idle connections`, ...treeRss(server.pid) };
      held.close();
    }
  } finally {
    for (const { entry, server } of running) {
      const stopped = await server.stop();
      if (stopped.forced) results.problems.push(`${scenario.key}/${entry.key}: ignored SIGTERM for 10 s, SIGKILLed`);
      if (stopped.orphans) results.problems.push(`${scenario.key}/${entry.key}: ${stopped.orphans} worker(s) outlived the primary, SIGKILLed`);
    }
  }
  section.targets.forEach(summariseRounds);
  if (scenario.key === 'hello') {
    const written = await countLines(ACCESS_LOG_FILE);
    const logged = section.targets.find((t) => t.key === 'corral-accesslog');
    const plain = section.targets.find((t) => t.key === 'corral');
    if (written && logged?.median && plain?.median) {
      logged.notes.push(`${(logged.median.rps / plain.median.rps).toFixed(2)}× corral without it (target ≥ 0.90×); ${written.lines} lines written`);
    }
    rmSync(ACCESS_LOG_FILE, { force: true });
  }
}

/** -w 4 under 50 keep-alive connections: how evenly the workers share the load (requests served each, from `corral ctl status`). */
async function measureBalance(results) {
  const dir = mkdtempSync(join(tmpdir(), 'corral-bench-balance-'));
  const socket = join(dir, 'ctl.sock');
  const target = { key: 'corral-balance', args: ['dist/src/cli/main.js', '-w', '4', '-b', '127.0.0.1:0', '--control-socket', socket, 'examples/test.js'], portPattern: /Listening at: http:\/\/127\.0\.0\.1:(\d+)/ };
  log('balance: corral -w 4, 50 keep-alive connections');
  let server;
  try {
    server = await startTarget(target);
    const status = () => JSON.parse(spawnSync(process.execPath, ['dist/src/cli/main.js', 'ctl', '--socket', socket, '--json', 'status'], { cwd: ROOT, encoding: 'utf8' }).stdout);
    // The first 200 says one worker listens: the load starts once all four do, or the first takes every connection.
    const deadline = performance.now() + 30_000;
    const readyWorkers = () => {
      try {
        return status().workers.filter((worker) => worker.ready).length;
      } catch {
        return 0; // the control socket is not up yet
      }
    };
    while (readyWorkers() < 4) {
      if (performance.now() > deadline) throw new Error('the 4 workers were not all ready within 30 s');
      await sleep(50);
    }
    await runWrk(server.port, { connections: 50, durationSec: WARMUP_SEC + SECONDS });
    const served = status().workers.map((worker) => worker.served);
    results.balance = { served, max: Math.max(...served), min: Math.min(...served) };
    log(`  served per worker: ${served.join(', ')}`);
  } catch (error) {
    results.problems.push(`balance: ${error.message}`);
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  installCleanup();
  process.on('exit', () => rmSync(ACCESS_LOG_FILE, { force: true }));
  const targetRuns = SELECTED.reduce((sum, s) => sum + s.targets.length, 0);
  abortAfter(300 + targetRuns * ROUNDS * (WARMUP_SEC + SECONDS + 3), log);

  const results = {
    ...machineFacts(),
    wrk: wrkVersion(),
    wrkCore: WRK_CORE,
    seconds: SECONDS,
    warmupSec: WARMUP_SEC,
    rounds: ROUNDS,
    scenarios: [],
    coldStart: {},
    coldStartRuns: COLD_START_RUNS,
    rss: {},
    problems: [],
    chartPrefix: ONLY.length ? `latest-${ONLY.join('-')}-` : '',
  };

  // Cold start first, while nothing else runs.
  if (!ONLY.length) {
    const keys = ['corral', 'cluster-rr'];
    const targets = keys.map((key) => TARGETS[key](SCENARIOS[0]));
    log(`cold start: ${targets.map((target) => target.label).join(' and ')}, ${COLD_START_RUNS} interleaved rounds`);
    try {
      const measured = await measureColdStarts(targets, COLD_START_RUNS);
      keys.forEach((key, index) => (results.coldStart[key] = { label: targets[index].label, ...measured[index] }));
    } catch (error) {
      for (const [index, key] of keys.entries()) results.coldStart[key] = { label: targets[index].label, error: error.message };
      results.problems.push(error.message);
    }
  }
  for (const scenario of SELECTED) await measureScenario(scenario, results);
  if (!ONLY.length || ONLY.includes(BALANCE)) await measureBalance(results);
  if (pm2Install) await pm2Install.then((installed) => installed.remove(), () => {});

  results.verdicts = verdicts(results);
  const report = renderSuiteReport(results);
  console.log(`\n${report}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  // A partial run must not replace the full figures.
  const prefix = ONLY.length ? `latest-${ONLY.join('-')}-` : '';
  for (const scenario of results.scenarios) {
    const bars = scenario.targets.map((t) => ({ label: t.label, value: t.median?.rps ?? NaN, reference: t.key === 'cluster-rr', corral: t.key.startsWith('corral') }));
    writeFileSync(new URL(`${prefix}${scenario.key}.svg`, RESULTS_DIR), barChart({ title: `${scenario.title} — req/s (higher is better)`, bars }));
    const cpuBars = scenario.targets.map((t) => ({ label: t.label, value: t.median?.cpuPerRequestUs ?? NaN, reference: t.key === 'cluster-rr', corral: t.key.startsWith('corral') }));
    writeFileSync(new URL(`${prefix}${scenario.key}-cpu.svg`, RESULTS_DIR), barChart({ title: `${scenario.title} — server CPU µs per request (lower is better)`, bars: cpuBars }));
  }
  const name = ONLY.length ? `latest-${ONLY.join('-')}.md` : 'latest.md';
  writeFileSync(new URL(name, RESULTS_DIR), report);
  log(`results written to bench/results/${name} and bench/results/${prefix}*.svg`);
  return results;
}

main()
  .then((results) => {
    process.exitCode = results.problems.length > 0 ? 1 : 0;
  })
  .catch((error) => {
    console.error(error);
    killAllSync();
    process.exitCode = 1;
  });
