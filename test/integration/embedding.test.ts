// corral as a library: the three examples run as real scripts, and serve()
// runs inside this test process (which becomes the arbiter). After every stop,
// no worker process may be left.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CorralError, type CorralServer, serve, startWorker } from '../../src/index.js';
import { REPO_ROOT, fixture, isAlive, waitUntil } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

/** Pids whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // The command may hold spaces and parentheses: the fields after the last ')' are fixed.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs an example script to its end (within a deadline) and returns its exit code and output lines. */
function runExample(path: string): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path} did not finish within 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: stdout.trim().split('\n'), stderr });
    });
  });
}

/** The pids listed after "workers" (or "worker") in an example's line. */
const pidsIn = (line: string) => line.split(/\bworkers?\b/)[1].trim().split(/\s+/).map(Number);

test('examples/programmatic: serve() an express app, reload(), scale(), stop(); no worker left', async () => {
  const { code, lines, stderr } = await runExample('examples/programmatic/serve.mjs');
  assert.is(code, 0, stderr);
  assert.match(lines[0], /^serving http:\/\/127\.0\.0\.1:\d+$/);
  const first = pidsIn(lines[1]);
  assert.is(first.length, 2, lines[1]);
  const served = JSON.parse(lines[2].replace(/^GET \/ /, '')) as { framework: string; pid: number };
  assert.is(served.framework, 'express');
  assert.ok(first.includes(served.pid), 'a worker answered');
  const reloaded = pidsIn(lines[3]);
  assert.is(reloaded.length, 2, lines[3]);
  assert.ok(reloaded.every((pid) => !first.includes(pid)), 'the reload replaced every worker');
  const scaled = pidsIn(lines[4]);
  assert.is(scaled.length, 3, lines[4]);
  assert.is(lines[5], 'stopped with 0');
  for (const pid of [...first, ...scaled]) assert.not.ok(isAlive(pid), `worker ${pid} is gone`);
});

test('examples/custom-supervisor: an XState machine scales corral to a queue and stops it', async () => {
  const { code, lines, stderr } = await runExample('examples/custom-supervisor/supervisor.mjs');
  assert.is(code, 0, stderr);
  assert.match(lines[0], /^serving http:\/\/127\.0\.0\.1:\d+$/);
  const many = pidsIn(lines[1]);
  assert.is(many.length, 4, lines[1]);
  const one = pidsIn(lines[2]);
  assert.is(one.length, 1, lines[2]);
  assert.is((JSON.parse(lines[3].replace(/^GET \/ /, '')) as { pid: number }).pid, one[0]);
  assert.is(lines[4], 'supervisor done, corral stopped');
  for (const pid of many) assert.not.ok(isAlive(pid), `worker ${pid} is gone`);
});

test('examples/in-process-worker: the worker chart serves in the script’s own process', async () => {
  const { code, lines, stderr } = await runExample('examples/in-process-worker/worker.mjs');
  assert.is(code, 0, stderr);
  const [, url, pid] = /^serving (http:\/\/127\.0\.0\.1:\d+) from process (\d+)$/.exec(lines[0]) ?? [];
  assert.ok(url, lines[0]);
  assert.match(lines[1], /^worker state \{"serving":/);
  assert.is((JSON.parse(lines[2].replace(/^GET \/ /, '')) as { pid: number }).pid, Number(pid), 'served by the script itself');
  assert.is(lines[3], 'stopped with 0');
});

test('serve() in this process: status(), events, scale(), stop(); then no child process remains', async () => {
  const server: CorralServer = await serve({ app: fixture('app.js'), bind: '127.0.0.1:0', workers: 2, logLevel: 'error' });
  try {
    const [url] = await server.ready;
    assert.is((await request(url)).status, 200);
    const status = server.status();
    assert.is(status.state, 'serving.steady');
    assert.is(status.workers, 2);
    assert.equal(status.listeners, [url]);
    assert.is(status.processes.length, 2);
    for (const worker of status.processes) {
      assert.ok(worker.ready, worker.id);
      assert.ok(childrenOf(process.pid).includes(worker.pid!), `worker ${worker.pid} is this process's child`);
    }
    const exits: number[] = [];
    server.on('workerExit', (exit) => exits.push(exit.pid!));
    server.scale(1);
    await waitUntil(() => exits.length === 1 && server.status().processes.length === 1, { what: 'one worker drained' });
    assert.ok(status.processes.some((worker) => worker.pid === exits[0]), 'one of the two left');
    assert.throws(() => server.scale(-1), (error: CorralError) => error.code === 'CORRAL_ERR_ARGUMENT');
  } finally {
    assert.is(await server.stop(), 0);
  }
  assert.equal(childrenOf(process.pid), [], 'no worker process is left');
  assert.is(server.status().state, 'dead');
  assert.throws(() => server.scale(2), (error: CorralError) => error.code === 'CORRAL_ERR_STOPPED' && /has stopped/.test(error.message));
  const reloadAfterStop = await server.reload().catch((error: CorralError) => error);
  assert.is((reloadAfterStop as CorralError).code, 'CORRAL_ERR_STOPPED');
});

test('serve() refuses bad options before starting anything, naming the option', async () => {
  const refusal = (options: unknown): Promise<CorralError> =>
    serve(options as never).then(
      () => {
        throw new Error('serve() started');
      },
      (error: CorralError) => error,
    );
  const badValue = await refusal({ app: fixture('app.js'), workers: 'many' });
  assert.is(badValue.code, 'CORRAL_ERR_CONFIG');
  assert.match(badValue.message, /serve\(\): workers/);
  const unknown = await refusal({ app: fixture('app.js'), wrkers: 2 });
  assert.match(unknown.message, /unknown setting 'wrkers'/);
  assert.is((await refusal({ workers: 2 })).code, 'CORRAL_ERR_ARGUMENT');
  assert.is((await refusal({ app: fixture('app.js'), kind: 'gevent' })).code, 'CORRAL_ERR_UNKNOWN_KIND');
  assert.equal(childrenOf(process.pid), [], 'nothing was spawned');
});

test('serve() of an app that cannot load: ready rejects with the cause, exited resolves 4, nothing is left', async () => {
  const server = await serve({ app: './no-such-app.js', cwd: REPO_ROOT, bind: '127.0.0.1:0', logLevel: 'critical' });
  const error = (await server.ready.catch((failure: CorralError) => failure)) as CorralError;
  assert.is(error.code, 'CORRAL_ERR_HALTED');
  assert.match(error.message, /Cannot find app module '\.\/no-such-app\.js'/);
  assert.is(await server.exited, 4);
  assert.equal(childrenOf(process.pid), []);
});

test('startWorker() refuses the sync kind, which needs an arbiter', async () => {
  const error = await startWorker({ app: fixture('app.js'), kind: 'sync' }).catch((failure: CorralError) => failure);
  assert.is((error as CorralError).code, 'CORRAL_ERR_ARGUMENT');
  assert.match((error as CorralError).message, /use serve\(\)/);
});

test("the package exports its API, and nothing else: internal modules are not importable by name", async () => {
  const api = await import('corral');
  for (const name of ['serve', 'corralActor', 'startWorker', 'arbiterMachine', 'workerMachine', 'settingsSchema', 'validateSettings', 'encodeFrame', 'FrameDecoder', 'loadKind', 'CorralError']) {
    assert.ok(name in api, `corral exports ${name}`);
  }
  const internal = await import('corral/dist/src/serve.js' as string).catch((error: { code?: string }) => error);
  assert.is((internal as { code?: string }).code, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
});

test.run();
