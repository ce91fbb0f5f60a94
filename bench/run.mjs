// Benchmark: corral vs node:cluster vs a single process, all serving examples/test.js.
// Usage: npm run bench   (env: BENCH_SECONDS=10, BENCH_ROUNDS=2, BENCH_ONLY=accesslog)
import { createReadStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortAfter, machineFacts, positiveInt } from './lib/run-facts.mjs';
import { installCleanup, killAllSync } from './lib/cleanup.mjs';
import { measureColdStart } from './lib/cold-start.mjs';
import { AUTOCANNON_VERSION, runLoad } from './lib/load.mjs';
import { isAlive, identify } from './lib/procs.mjs';
import { renderReport } from './lib/report.mjs';
import { treeRss } from './lib/rss.mjs';
import { median } from './lib/stats.mjs';
import { ACCESS_LOG_FILE, SCENARIOS, TARGETS, startTarget } from './lib/targets.mjs';

const LOAD = {
  version: AUTOCANNON_VERSION,
  connections: 50,
  pipelining: 1,
  durationSec: positiveInt('BENCH_SECONDS', 10),
  warmupSec: 2,
  rounds: positiveInt('BENCH_ROUNDS', 2),
};
const COLD_START_RUNS = 3;
const IDLE_SEC = 2;
const COLD_START_TARGETS = ['corral', 'cluster'];
const ONLY = process.env.BENCH_ONLY || null;
if (ONLY && !SCENARIOS[ONLY]) {
  console.error(`BENCH_ONLY must be one of ${Object.keys(SCENARIOS).join(', ')}, got "${ONLY}"`);
  process.exit(2);
}
const SELECTED = ONLY ? TARGETS.filter((t) => SCENARIOS[ONLY].includes(t.key)) : TARGETS;

const RESULTS_DIR = new URL('./results/', import.meta.url);

const log = (msg) => console.error(`bench: ${msg}`);

/** Lines the access-log target wrote: one per request it served, warm-ups and probes included. */
async function countLines(path) {
  if (!existsSync(path)) return null;
  let lines = 0;
  for await (const chunk of createReadStream(path)) {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
  }
  return { lines, bytes: statSync(path).size };
}

async function main() {
  installCleanup();
  process.on('exit', () => rmSync(ACCESS_LOG_FILE, { force: true }));

  // Hard upper bound on the whole run, whatever hangs: the exit hook kills everything.
  const perRun = LOAD.warmupSec + LOAD.durationSec + 5;
  const budgetSec = 180 + LOAD.rounds * SELECTED.length * perRun;
  abortAfter(budgetSec, log);

  const results = {
    ...machineFacts(),
    load: LOAD,
    only: ONLY,
    targets: SELECTED.map(({ key, label }) => ({ key, label })),
    throughput: {},
    coldStart: {},
    coldStartRuns: COLD_START_RUNS,
    rss: {},
    idleSec: IDLE_SEC,
    problems: [],
  };
  const fail = (section, target, err) => {
    const message = err instanceof Error ? err.message : String(err);
    section[target.key] = { label: target.label, error: message };
    results.problems.push(message);
    log(`FAILED ${message}`);
  };

  // 1. Cold start, measured first, while nothing else is running (not part of a BENCH_ONLY scenario).
  for (const target of ONLY ? [] : TARGETS.filter((t) => COLD_START_TARGETS.includes(t.key))) {
    log(`cold start: ${target.label} x${COLD_START_RUNS}`);
    try {
      results.coldStart[target.key] = { label: target.label, ...(await measureColdStart(target, COLD_START_RUNS)) };
    } catch (err) {
      fail(results.coldStart, target, err);
    }
  }

  // 2. Start every target; one failing to start must not stop the others.
  const running = [];
  try {
    for (const target of SELECTED) {
      log(`starting ${target.label}`);
      try {
        const server = await startTarget(target);
        running.push({ target, server, ident: identify(server.pid) });
        log(`${target.key} serving on 127.0.0.1:${server.port} (pid ${server.pid})`);
      } catch (err) {
        fail(results.throughput, target, err);
        results.rss[target.key] = { label: target.label, error: 'not started' };
      }
    }

    // 3. Idle memory, before any load.
    await sleep(IDLE_SEC * 1000);
    for (const { target, server } of running) {
      const tree = treeRss(server.pid);
      results.rss[target.key] = { label: target.label, ...tree };
    }

    // 4. Interleaved rounds, so slow drifts of the machine hit every target alike.
    for (const { target } of running) results.throughput[target.key] = { label: target.label, rounds: [] };
    for (let round = 1; round <= LOAD.rounds; round += 1) {
      for (const { target, server, ident } of running) {
        const entry = results.throughput[target.key];
        if (entry.error) continue;
        if (!isAlive(ident)) {
          fail(results.throughput, target, new Error(`${target.key}: process ${server.pid} died during the run`));
          continue;
        }
        log(`round ${round}/${LOAD.rounds}: ${target.label} (warm-up ${LOAD.warmupSec} s, run ${LOAD.durationSec} s)`);
        await runLoad(server.port, { ...LOAD, durationSec: LOAD.warmupSec });
        const measured = await runLoad(server.port, LOAD);
        entry.rounds.push(measured);
        log(`  ${measured.rps.toFixed(0)} req/s, p50 ${measured.p50} ms, p99 ${measured.p99} ms, errors ${measured.errors}`);
      }
    }
  } finally {
    for (const { target, server } of running) {
      const stopped = await server.stop();
      if (stopped.forced) results.problems.push(`${target.key}: ignored SIGTERM for 10 s, SIGKILLed`);
      if (stopped.orphans) results.problems.push(`${target.key}: ${stopped.orphans} worker(s) outlived the primary, SIGKILLed`);
    }
  }
  if (SELECTED.some((t) => t.key === 'corral-accesslog')) results.accessLog = await countLines(ACCESS_LOG_FILE);
  rmSync(ACCESS_LOG_FILE, { force: true });

  for (const entry of Object.values(results.throughput)) {
    if (entry.error) continue;
    entry.median = {
      rps: median(entry.rounds.map((x) => x.rps)),
      p50: median(entry.rounds.map((x) => x.p50)),
      p99: median(entry.rounds.map((x) => x.p99)),
    };
    entry.errors = entry.rounds.reduce((sum, x) => sum + x.errors, 0);
  }

  const report = renderReport(results);
  console.log(`\n${report}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  // A partial run must not replace the full figures.
  const name = ONLY ? `latest-${ONLY}.md` : 'latest.md';
  writeFileSync(new URL(name, RESULTS_DIR), report);
  log(`results written to bench/results/${name}`);
  return results;
}

main()
  .then((results) => {
    // Non-zero exit when any target could not be measured, so CI notices.
    process.exitCode = results.problems.length > 0 ? 1 : 0;
  })
  .catch((err) => {
    console.error(err);
    killAllSync();
    process.exitCode = 1;
  });
