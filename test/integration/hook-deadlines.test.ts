// Hooks that never finish: each is given up on at --hook-timeout, logged by name,
// and the lifecycle carries on (start, boot, reload, worker exit, arbiter exit).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, isAlive, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-hook-deadlines-'));
const app = fixture('app.js');
let cases = 0;

/** A hook body that waits on a live timer far longer than any test: the loop stays busy, the hook never returns. */
const WAITS_FOR_EVER = 'new Promise((resolve) => setTimeout(resolve, 600_000))';

/** A fresh directory holding corral.config.mjs with `hooks` (object-literal members). */
function configDir(hooks: string): string {
  const dir = join(tmp, `case-${(cases += 1)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'corral.config.mjs'), `export default {\n${hooks}\n};\n`);
  return dir;
}

test('onStarting that never finishes: logged at the deadline, then the arbiter binds and serves', async () => {
  const cwd = configDir(`onStarting: () => ${WAITS_FOR_EVER},`);
  await withCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', app], async (corral) => {
    await corral.waitForLine(/\[ERROR\] Hook onStarting did not finish within 1 s; continuing/, { timeoutMs: 8000 });
    const [url] = await corral.ready();
    assert.is((await request(url)).status, 200);
  }, { cwd });
});

test('postFork that never finishes: the worker boots once, after the deadline; no boot-timeout loop', async () => {
  const cwd = configDir(`postFork: () => ${WAITS_FOR_EVER},`);
  await withCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', '--timeout', '8', app], async (corral) => {
    await corral.waitForLine(/\[ERROR\] Hook postFork did not finish within 1 s; continuing/, { timeoutMs: 7000 });
    const [url] = await corral.ready(7000);
    assert.is((await request(url)).status, 200);
    assert.is(corral.workerPids().length, 1, corral.output);
    assert.not.match(corral.output, /WORKER TIMEOUT/);
  }, { cwd });
});

test('postWorkerInit that never finishes, --hook-timeout above --timeout: cut to a quarter of --timeout, so the worker is not taken for hung', async () => {
  const cwd = configDir(`postWorkerInit: () => ${WAITS_FOR_EVER},`);
  // hookTimeout stays at its default (30 s); --timeout 2 bounds the boot.
  await withCorral(['-b', '127.0.0.1:0', '--timeout', '2', app], async (corral) => {
    await corral.waitForLine(/\[ERROR\] Hook postWorkerInit did not finish within 0\.5 s; continuing/, { timeoutMs: 8000 });
    const [url] = await corral.ready(8000);
    assert.is((await request(url)).status, 200);
    assert.is(corral.workerPids().length, 1, corral.output);
    assert.not.match(corral.output, /WORKER TIMEOUT/);
  }, { cwd });
});

test('onReload that never finishes: logged, and the reload completes with new workers', async () => {
  const cwd = configDir(`onReload: () => ${WAITS_FOR_EVER},`);
  await withCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', app], async (corral) => {
    const [url] = await corral.ready();
    const [oldWorker] = corral.workerPids();
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    await corral.waitForLine(/\[ERROR\] Hook onReload did not finish within 1 s; continuing/, { from, timeoutMs: 8000 });
    await corral.waitForLine(/\[INFO\] Reload complete: generation 2 serving/, { from, timeoutMs: 10_000 });
    await waitUntil(() => !isAlive(oldWorker), { timeoutMs: 10_000, what: 'the old worker to exit' });
    assert.is((await request(url)).status, 200);
  }, { cwd });
});

test('preExec that never finishes: logged, and the upgrade (USR2) goes ahead', async () => {
  const cwd = configDir(`preExec: () => ${WAITS_FOR_EVER},`);
  await withCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', app], async (corral) => {
    await corral.ready();
    const from = corral.lines.length;
    corral.signal('SIGUSR2');
    await corral.waitForLine(/\[ERROR\] Hook preExec did not finish within 1 s; continuing/, { from, timeoutMs: 8000 });
    await waitUntil(() => corral.arbiterPids().length === 2, { timeoutMs: 10_000, what: 'the new arbiter to start' });
    const newArbiter = corral.arbiterPids()[1];
    await corral.waitForLine(new RegExp(`\\[${newArbiter}\\] \\[INFO\\] Ready: 1 worker`), { from, timeoutMs: 10_000 });
  }, { cwd });
});

test('onExit that never settles: after the deadline the arbiter says so, removes its pidfile and exits 0', async () => {
  // Nothing keeps the loop alive: without a deadline the process would simply end, mid-exit.
  const cwd = configDir('onExit: () => new Promise(() => {}),');
  const pidfile = join(cwd, 'corral.pid');
  const corral = startCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', '-p', pidfile, app], { cwd });
  try {
    await corral.ready();
    corral.signal('SIGTERM');
    const exit = await corral.waitForExit(10_000);
    assert.is(exit.code, 0, corral.output);
    assert.match(corral.output, /\[ERROR\] Hook onExit did not finish within 1 s; continuing/);
    assert.match(corral.output, /\[INFO\] Shutting down: Master/);
    assert.not.ok(existsSync(pidfile), 'the pidfile is removed');
  } finally {
    await corral.stop();
  }
});

test('onExit waiting for ever after a halt: the arbiter still exits with the halt status (4, app load error)', async () => {
  const cwd = configDir(`onExit: () => ${WAITS_FOR_EVER},`);
  const corral = startCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', fixture('throws-at-import.js')], { cwd });
  try {
    const exit = await corral.waitForExit(10_000);
    assert.is(exit.code, 4, corral.output);
    assert.match(corral.output, /\[ERROR\] Hook onExit did not finish within 1 s; continuing/);
    assert.match(corral.output, /\[INFO\] Shutting down: Master/);
  } finally {
    await corral.stop();
  }
});

test('workerExit waiting on a live timer: a TERM stop ends within the hook deadline, not the graceful timeout', async () => {
  const cwd = configDir(`workerExit: () => ${WAITS_FOR_EVER},`);
  const corral = startCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', app], { cwd });
  try {
    await corral.ready();
    const [worker] = corral.workerPids();
    corral.signal('SIGTERM');
    // The graceful timeout is 30 s: only the hook deadline can end this in time.
    const exit = await corral.waitForExit(10_000);
    assert.is(exit.code, 0, corral.output);
    assert.match(corral.output, /\[ERROR\] Hook workerExit did not finish within 1 s; continuing/);
    assert.match(corral.output, new RegExp(`Worker exiting \\(pid: ${worker}\\)`));
    assert.not.ok(isAlive(worker));
  } finally {
    await corral.stop();
  }
});

test('workerExit that starts timers and waits on one, after its arbiter was killed: the worker still exits (no orphan)', async () => {
  const record = join(tmp, 'worker-exit-ran');
  const cwd = configDir(
    `workerExit: async () => {
  setInterval(() => {}, 1000);
  (await import('node:fs')).writeFileSync(${JSON.stringify(record)}, 'ran');
  await ${WAITS_FOR_EVER};
},`,
  );
  const corral = startCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', app], { cwd });
  try {
    await corral.ready();
    const [worker] = corral.workerPids();
    process.kill(corral.pid, 'SIGKILL');
    // Not `exited`: the orphaned worker still holds the output pipes.
    await corral.processExited;
    await waitUntil(() => existsSync(record), { timeoutMs: 8000, what: 'workerExit to run in the orphaned worker' });
    await waitUntil(() => !isAlive(worker), { timeoutMs: 8000, what: `worker ${worker} to exit on its own` });
    assert.is(readFileSync(record, 'utf8'), 'ran');
  } finally {
    await corral.stop();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
