// Reload-under-load benchmark: requests that fail while workers are replaced,
// for corral (HUP, --max-requests, USR2 upgrade), node:cluster and PM2, all
// serving examples/test.js under the same continuous keep-alive load.
// Usage: npm run bench:reload   (env: BENCH_RELOAD_SECONDS=30, BENCH_RELOAD_USR2=0, BENCH_RELOAD_ONLY=key,key)
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortAfter, machineFacts, positiveInt } from './lib/run-facts.mjs';
import { installCleanup, killAllSync } from './lib/cleanup.mjs';
import { AUTOCANNON_VERSION, FAILURE_KINDS, failedTotal, startLoad } from './lib/reload-load.mjs';
import { installPm2 } from './lib/reload-pm2.mjs';
import { renderReloadReport } from './lib/reload-report.mjs';
import { WORKERS, reloadScenarios } from './lib/reload-scenarios.mjs';

const LOAD = {
  version: AUTOCANNON_VERSION,
  connections: 50,
  durationSec: positiveInt('BENCH_RELOAD_SECONDS', 30),
};
const RELOADS = 20;
const MAX_REQUESTS = 1000;
const SETTLE_MS = 1_000; // between scenarios, so one's exiting processes do not load the next

const RESULTS_DIR = new URL('./results/', import.meta.url);

const log = (msg) => console.error(`bench:reload: ${msg}`);

/** PM2 is installed once, on first use, into a scratch directory removed at exit. */
function lazyPm2() {
  let installing = null;
  return () => {
    installing ??= installPm2().then((installed) => {
      process.on('exit', installed.remove);
      log(`PM2 ${installed.version} installed in ${installed.dir}`);
      return installed;
    });
    return installing;
  };
}

async function runScenario(scenario) {
  const result = { key: scenario.key, label: scenario.label, corral: Boolean(scenario.corral) };
  let server = null;
  // Other work on the box slows reloads down; record how busy it was.
  result.loadAvg = os.loadavg()[0];
  try {
    server = await scenario.start();
    log(`${scenario.key}: serving on 127.0.0.1:${server.port} (pid ${server.pid}); load for ${LOAD.durationSec} s`);
    const durationMs = LOAD.durationSec * 1000;
    const startedAt = performance.now();
    const load = startLoad(server.port, { connections: LOAD.connections, durationSec: LOAD.durationSec });
    const driving = scenario.drive?.(server, { startedAt, durationMs }) ?? null;
    const counts = await load.done;
    const loadMs = performance.now() - startedAt;
    result.counts = counts;
    result.failed = failedTotal(counts);
    if (driving) {
      const schedule = await driving;
      result.schedule = schedule;
      result.reloadsDone = schedule.reloads.filter((r) => r.endMs <= loadMs).length;
      result.notes = [...(schedule.notes ?? [])];
    }
    if (scenario.recycled) result.recycled = scenario.recycled(server);
    result.notes = [...(result.notes ?? []), ...(scenario.notes?.(server) ?? [])];
    if (result.schedule?.error) throw Object.assign(new Error(result.schedule.error), { partial: true });
  } catch (err) {
    if (!err.partial) result.error = err.message;
    throw Object.assign(err, { result });
  } finally {
    if (server) {
      const stopped = await server.stop();
      if (stopped.forced) (result.stopProblems ??= []).push(`${scenario.key}: did not stop on request, SIGKILLed`);
      if (stopped.orphans) (result.stopProblems ??= []).push(`${scenario.key}: ${stopped.orphans} process(es) outlived the server, SIGKILLed`);
    }
  }
  return result;
}

async function main() {
  installCleanup();

  const all = reloadScenarios({
    reloads: RELOADS,
    maxRequests: MAX_REQUESTS,
    usr2: process.env.BENCH_RELOAD_USR2 !== '0',
    pm2: lazyPm2(),
  });
  const only = (process.env.BENCH_RELOAD_ONLY ?? '').split(',').map((key) => key.trim()).filter(Boolean);
  const unknown = only.filter((key) => !all.some((s) => s.key === key));
  if (unknown.length > 0) {
    console.error(`BENCH_RELOAD_ONLY: unknown scenario(s) ${unknown.join(', ')}; known: ${all.map((s) => s.key).join(', ')}`);
    process.exit(2);
  }
  // A scenario named in BENCH_RELOAD_ONLY runs even if disabled by default.
  const scenarios = only.length === 0 ? all : all.filter((s) => only.includes(s.key)).map((s) => ({ ...s, disabled: null }));

  // Hard upper bound on the whole run, whatever hangs: the exit hook kills everything.
  const budgetSec = 240 + scenarios.length * (LOAD.durationSec + 30);
  abortAfter(budgetSec, log);

  const results = {
    ...machineFacts(),
    workers: WORKERS,
    load: LOAD,
    scenarios: [],
    problems: [],
  };

  for (const scenario of scenarios) {
    if (scenario.disabled) {
      log(`${scenario.key}: ${scenario.disabled}`);
      results.scenarios.push({ key: scenario.key, label: scenario.label, corral: Boolean(scenario.corral), skipped: scenario.disabled });
      continue;
    }
    log(`${scenario.label}`);
    let result;
    try {
      result = await runScenario(scenario);
    } catch (err) {
      result = err.result ?? { key: scenario.key, label: scenario.label, corral: Boolean(scenario.corral), error: err.message };
      if (scenario.optional && !result.counts) {
        result = { ...result, error: undefined, skipped: err.message };
        console.error(`PM2: skipped (${err.message.split('\n')[0]})`);
      } else {
        results.problems.push(`${scenario.key}: ${err.message}`);
        log(`FAILED ${scenario.key}: ${err.message}`);
      }
    }
    results.problems.push(...(result.stopProblems ?? []));
    results.scenarios.push(result);
    if (result.counts) {
      const kinds = FAILURE_KINDS
        .filter((k) => result.counts[k] > 0).map((k) => `${k} ${result.counts[k]}`).join(', ');
      const reloads = result.recycled !== undefined ? `, ${result.recycled} workers recycled`
        : result.schedule ? `, reloads ${result.reloadsDone}/${result.schedule.planned}` : '';
      log(`  ${result.counts.sent} sent, ${result.counts.ok} ok, ${result.failed} failed${kinds ? ` (${kinds})` : ''}${reloads}`);
    }
    await sleep(SETTLE_MS);
  }

  const report = renderReloadReport(results);
  console.log(`\n${report}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  // A partial run must not replace the full figures.
  const name = only.length === 0 ? 'reload.md' : `reload-${only.join('+')}.md`;
  writeFileSync(new URL(name, RESULTS_DIR), report);
  log(`results written to bench/results/${name}`);
  return results;
}

main()
  .then((results) => {
    // Non-zero exit when a scenario could not be run or corral missed its target, so CI notices.
    const corralMissed = results.scenarios.some((s) => s.corral && !s.skipped && (s.error || s.failed > 0));
    process.exitCode = results.problems.length > 0 || corralMissed ? 1 : 0;
  })
  .catch((err) => {
    console.error(err);
    killAllSync();
    process.exitCode = 1;
  });
