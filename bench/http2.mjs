// HTTP/2 bench: nghttp2's h2load against corral serving prior-knowledge h2c
// (`--http-protocols h2,h1`, one worker) and a bare node:http2 server (one
// process, bench/peers/http2-single.mjs), the same hello-world app through
// node's compatibility API, side by side. As bench/run.mjs does: h2load pinned
// to one core with taskset, a warm-up then a measured run per target, rounds
// interleaved, medians reported; beside req/s, server CPU per request (the
// process tree's user+system time from /proc over the run, over the requests
// served). Target: corral ≥ 0.95× the bare server.
// Usage: npm run bench:http2   (env: BENCH_SECONDS=5, BENCH_ROUNDS=3, BENCH_H2_CLIENTS=50, BENCH_H2_STREAMS=10)
import { spawn, spawnSync } from 'node:child_process';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { installCleanup, track, untrack } from './lib/cleanup.mjs';
import { withServerCpu } from './lib/cpu.mjs';
import { eachLine } from './lib/each-line.mjs';
import { identify, signal } from './lib/procs.mjs';
import { abortAfter, machineFacts, positiveInt } from './lib/run-facts.mjs';
import { median } from './lib/stats.mjs';
import { ROOT } from './lib/targets.mjs';

const DURATION_SEC = positiveInt('BENCH_SECONDS', 5);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const CLIENTS = positiveInt('BENCH_H2_CLIENTS', 50);
const STREAMS = positiveInt('BENCH_H2_STREAMS', 10);
const WARMUP_SEC = 2;
const LOAD_CORE = process.env.BENCH_WRK_CORE ?? '1';
const APP = 'examples/test.js';

const log = (message) => console.error(`bench: ${message}`);

const TARGETS = [
  { key: 'corral', label: 'corral -w 1 --http-protocols h2,h1 (h2c)', args: ['dist/src/cli/main.js', '-w', '1', '-b', '127.0.0.1:0', '--http-protocols', 'h2,h1', APP], port: /Listening at: http:\/\/127\.0\.0\.1:(\d+)/ },
  { key: 'bare', label: 'bare node:http2 server (one process)', args: ['bench/peers/http2-single.mjs', APP], port: /^LISTENING (\d+)$/ },
];

/** Spawns a target, waits for its port line, then for a 200 over HTTP/2. */
async function start(target) {
  const child = spawn(process.execPath, target.args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ident = track(child.pid);
  let port;
  eachLine(child, (line) => {
    const match = target.port.exec(line);
    if (match && port === undefined) port = Number(match[1]);
  });
  const deadline = Date.now() + 15_000;
  while (port === undefined || !(await answers(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${target.label}: not serving HTTP/2 within 15 s`);
    await sleep(50);
  }
  return { pid: child.pid, port, ident, stop: () => (signal(ident, 'SIGTERM'), untrack(child.pid)) };
}

function answers(port) {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => resolve(false));
    const req = session.request({ ':path': '/' });
    req.on('response', (head) => {
      resolve(head[':status'] === 200);
      session.close();
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** One h2load run; what it served, per second, and its latency (ms). */
function h2load(port, durationSec) {
  const args = ['-c', String(LOAD_CORE), 'h2load', '-c', String(CLIENTS), '-m', String(STREAMS), '-D', String(durationSec), `http://127.0.0.1:${port}/`];
  const run = spawnSync('taskset', args, { encoding: 'utf8', timeout: (durationSec + 30) * 1000 });
  const out = run.stdout ?? '';
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const finished = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
  const latency = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
  if (!requests || !finished) throw new Error(`h2load gave no figures:\n${out}${run.stderr}`);
  const ms = (text) => (text.endsWith('us') ? Number(text.slice(0, -2)) / 1000 : text.endsWith('ms') ? Number(text.slice(0, -2)) : Number(text.slice(0, -1)) * 1000);
  return { total: Number(requests[4]), errors: Number(requests[5]) + Number(requests[6]), rps: Number(finished[2]), meanMs: latency ? ms(latency[3]) : NaN };
}

async function main() {
  installCleanup();
  abortAfter(ROUNDS * TARGETS.length * (DURATION_SEC + WARMUP_SEC + 10) + 60, log);
  if (spawnSync('h2load', ['--version']).status !== 0) throw new Error('h2load is not installed (apt-get install nghttp2-client)');
  const running = [];
  for (const target of TARGETS) running.push({ target, server: await start(target), rounds: [] });
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const entry of running) {
        log(`round ${round}/${ROUNDS}: ${entry.target.label}`);
        h2load(entry.server.port, WARMUP_SEC);
        const measured = await withServerCpu(entry.server.pid, async () => h2load(entry.server.port, DURATION_SEC));
        entry.rounds.push(measured);
        log(`  ${measured.rps.toFixed(0)} req/s, ${measured.cpuPerRequestUs.toFixed(1)} µs CPU/req, mean ${measured.meanMs.toFixed(2)} ms, errors ${measured.errors}`);
      }
    }
  } finally {
    for (const entry of running) entry.server.stop();
  }
  const summary = Object.fromEntries(
    running.map(({ target, rounds }) => [target.key, { label: target.label, rps: median(rounds.map((r) => r.rps)), cpuPerRequestUs: median(rounds.map((r) => r.cpuPerRequestUs)), errors: rounds.reduce((sum, r) => sum + r.errors, 0), rounds }]),
  );
  const { corral, bare } = summary;
  const rpsRatio = corral.rps / bare.rps;
  // Less CPU per request is better: the ratio is bare's over corral's, so ≥ 0.95 reads the same way as req/s.
  const cpuRatio = bare.cpuPerRequestUs / corral.cpuPerRequestUs;
  const facts = machineFacts();
  console.log(`# HTTP/2 (h2load -c ${CLIENTS} -m ${STREAMS}, ${DURATION_SEC} s × ${ROUNDS} rounds, hello world)\n`);
  console.log(`${facts.date}, node ${facts.node}, ${facts.cpus} × ${facts.cpuModel}, load ${facts.loadAvg.map((value) => value.toFixed(2)).join(' ')}\n`);
  console.log('| target | req/s (median) | server CPU µs/req (median) | errors | rounds (req/s) |');
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const entry of Object.values(summary)) {
    console.log(`| ${entry.label} | ${entry.rps.toFixed(0)} | ${entry.cpuPerRequestUs.toFixed(1)} | ${entry.errors} | ${entry.rounds.map((r) => r.rps.toFixed(0)).join(', ')} |`);
  }
  console.log(`\ncorral / bare: req/s ${rpsRatio.toFixed(3)}×, CPU per request ${cpuRatio.toFixed(3)}× (bare's over corral's) — target ≥ 0.95×: ${rpsRatio >= 0.95 && cpuRatio >= 0.95 ? 'met' : 'missed'}`);
}

main().catch((error) => {
  log(error.stack ?? String(error));
  process.exit(1);
});
