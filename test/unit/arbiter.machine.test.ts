// Whole arbiter lifecycles on a simulated clock, with fake sockets and processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromPromise } from 'xstate';
import { arbiterMachine } from '../../machines/arbiter.js';
import { workerHandleMachine } from '../../machines/worker-handle.js';
import { simulatedClock } from '../helpers/fake-clock.js';
import { fakeProcesses, settle } from '../helpers/fake-processes.js';

const TIMEOUT = 30_000;
const GRACEFUL = 30_000;
const KILL_DELAY = 1000;
const SETTLE = 5000;

async function startArbiter({ workers = 2, bindFails = false, reload = async () => ({ workers, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL }) } = {}) {
  const processes = fakeProcesses();
  const logs: string[] = [];
  const { clock, advance } = simulatedClock();
  const log = (_: unknown, params: { level: string; message: string }) => logs.push(`${params.level}: ${params.message}`);
  let listenersClosed = 0;
  const workerCountChanges: { from: number; to: number }[] = [];
  const machine = arbiterMachine.provide({
    actors: {
      bindListeners: fromPromise(async () => {
        if (bindFails) throw new Error("Can't bind 127.0.0.1:8000: EADDRINUSE");
        return ['http://127.0.0.1:8000'];
      }),
      reloadConfig: fromPromise(reload),
      workerHandle: workerHandleMachine.provide({ actors: { workerProcess: processes.logic }, actions: { log } }),
    },
    actions: { log, closeListeners: () => (listenersClosed += 1), workersChanged: (_, change: { from: number; to: number }) => workerCountChanges.push(change) },
  });
  const actor = createActor(machine, {
    clock,
    input: { workers, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL, killDelayMs: KILL_DELAY, settleMs: SETTLE },
  }).start();
  await settle();
  const ready = (p: { emit(event: { type: 'MSG.booted' | 'MSG.ready' }): void }) => (p.emit({ type: 'MSG.booted' }), p.emit({ type: 'MSG.ready' }));
  const readyAll = () => processes.all.forEach(ready);
  return { actor, processes, logs, advance, ready, readyAll, listenersClosed: () => listenersClosed, workerCountChanges };
}

const stateOf = (actor: { getSnapshot(): { value: unknown } }) => JSON.stringify(actor.getSnapshot().value);

test('binds, spawns the configured number of workers and announces readiness once', async () => {
  const { actor, processes, logs, readyAll } = await startArbiter({ workers: 3 });
  assert.is(processes.all.length, 3);
  assert.is(stateOf(actor), '{"serving":"steady"}');
  readyAll();
  assert.equal(logs.filter((line) => line.includes('Ready: 3 worker(s) serving')).length, 1);
});

test('a bind failure ends the arbiter with exit 1 and the reason', async () => {
  const { actor, processes } = await startArbiter({ bindFails: true });
  assert.is(actor.getSnapshot().status, 'done');
  assert.equal(actor.getSnapshot().output, { exitCode: 1, haltReason: "Can't bind 127.0.0.1:8000: EADDRINUSE" });
  assert.is(processes.all.length, 0);
});

test('a worker killed by SIGKILL is logged as such and replaced', async () => {
  const { processes, logs, readyAll } = await startArbiter();
  readyAll();
  processes.all[0].exit(null, 'SIGKILL');
  assert.is(processes.all.length, 3, 'a replacement was spawned');
  assert.ok(logs.some((line) => line === 'error: Worker (pid:1000) was sent SIGKILL! Perhaps out of memory?'), logs.join('\n'));
});

test('a worker that never reports ready is aborted at the timeout, killed a second later, and replaced', async () => {
  const { processes, logs, advance } = await startArbiter({ workers: 1 });
  const [stuck] = processes.all;
  advance(TIMEOUT - 1);
  assert.equal(stuck.signals, []);
  advance(1);
  assert.equal(stuck.signals, ['SIGABRT']);
  assert.ok(logs.includes('critical: WORKER TIMEOUT (pid:1000)'));
  advance(KILL_DELAY);
  assert.equal(stuck.signals, ['SIGABRT', 'SIGKILL']);
  stuck.exit(null, 'SIGKILL');
  assert.is(processes.all.length, 2);
  // Killed for a timeout: not reported as a possible out-of-memory kill.
  assert.not.ok(logs.some((line) => line.includes('Perhaps out of memory')));
});

test('heartbeats keep a busy worker alive; silence after them still times out', async () => {
  const { processes, advance, readyAll } = await startArbiter({ workers: 1 });
  readyAll();
  const [worker] = processes.all;
  for (let i = 0; i < 10; i += 1) {
    advance(TIMEOUT / 2);
    worker.emit({ type: 'MSG.heartbeat', stats: { inFlight: 1, served: i, lagMs: 0, rss: 1 } });
  }
  assert.equal(worker.signals, []);
  advance(TIMEOUT);
  assert.equal(worker.signals, ['SIGABRT']);
});

test('a worker that fails to load the app halts the arbiter with exit 4, stopping the others', async () => {
  const { actor, processes, logs } = await startArbiter({ workers: 2 });
  const [broken, healthy] = processes.all;
  broken.emit({ type: 'MSG.bootFailed', code: 4, message: "Cannot find app module 'nope'" });
  broken.exit(4);
  assert.is(processes.all.length, 2, 'no replacement for a boot failure');
  assert.equal(healthy.signals, ['SIGQUIT']);
  healthy.exit(0);
  assert.is(actor.getSnapshot().status, 'done');
  assert.equal(actor.getSnapshot().output, { exitCode: 4, haltReason: "App failed to load. Cannot find app module 'nope'" });
  assert.not.ok(logs.some((line) => line.includes('SIGKILL')));
});

test('TERM drains every worker, a worker dying while draining is not replaced, exit 0', async () => {
  const { actor, processes, readyAll, listenersClosed } = await startArbiter({ workers: 2 });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGTERM' });
  assert.is(stateOf(actor), '"draining"');
  assert.is(listenersClosed(), 1);
  assert.equal(processes.all.map((p) => p.signals), [['SIGTERM'], ['SIGTERM']]);
  processes.all[0].exit(null, 'SIGKILL');
  processes.all[1].exit(0);
  assert.is(processes.all.length, 2);
  assert.equal(actor.getSnapshot().output, { exitCode: 0, haltReason: undefined });
});

test('a worker that outlives the graceful timeout is killed (a kill delay later: it cuts its own requests first, and says which)', async () => {
  const { actor, processes, advance, readyAll } = await startArbiter({ workers: 1 });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGTERM' });
  advance(GRACEFUL + KILL_DELAY - 1);
  assert.equal(processes.all[0].signals, ['SIGTERM']);
  advance(1);
  assert.equal(processes.all[0].signals, ['SIGTERM', 'SIGKILL']);
  processes.all[0].exit(null, 'SIGKILL');
  assert.is(actor.getSnapshot().status, 'done');
});

test('INT during a graceful stop turns it into a quick one', async () => {
  const { actor, processes, readyAll } = await startArbiter({ workers: 1 });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGTERM' });
  actor.send({ type: 'SIGNAL', signal: 'SIGINT' });
  assert.equal(processes.all[0].signals, ['SIGTERM', 'SIGQUIT']);
});

test('a worker that breaks the IPC protocol is logged, drained and replaced', async () => {
  const { processes, logs, readyAll } = await startArbiter({ workers: 1 });
  readyAll();
  processes.all[0].emit({ type: 'PROCESS.PROTOCOL_ERROR', message: 'frame of 99999999 bytes exceeds the cap' });
  assert.ok(logs.some((line) => /^error: Worker \(pid:1000\) broke the IPC protocol: frame of 99999999/.test(line)), logs.join('\n'));
  assert.equal(processes.all[0].signals, ['SIGTERM']);
  processes.all[0].exit(0);
  assert.is(processes.all.length, 2);
});

test('a protocol error from a worker already being killed does not restart its stop', async () => {
  const { processes, advance } = await startArbiter({ workers: 1 });
  const [stuck] = processes.all;
  advance(TIMEOUT);
  assert.equal(stuck.signals, ['SIGABRT']);
  stuck.emit({ type: 'PROCESS.PROTOCOL_ERROR', message: 'garbage' });
  advance(KILL_DELAY);
  assert.equal(stuck.signals, ['SIGABRT', 'SIGKILL']);
});

test('HUP rolls: each new worker is ready before an old one drains; never fewer ready than configured', async () => {
  const { actor, processes, logs, ready, readyAll } = await startArbiter({ workers: 2 });
  readyAll();
  const [old1, old2] = processes.all;
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  assert.is(processes.all.length, 3, 'one new worker at a time');
  assert.equal([old1.signals, old2.signals], [[], []], 'no old worker drains before a new one is ready');
  ready(processes.all[2]);
  assert.equal(old1.signals, ['SIGTERM'], 'the oldest drains once its replacement is ready');
  assert.is(processes.all.length, 4);
  assert.equal(old2.signals, []);
  old1.exit(0);
  ready(processes.all[3]);
  assert.equal(old2.signals, ['SIGTERM']);
  old2.exit(0);
  assert.is(JSON.stringify(actor.getSnapshot().value), '{"serving":"steady"}');
  assert.ok(logs.includes('info: Reload complete: generation 2 serving'));
  assert.is(processes.all.length, 4, 'no extra spawns once done');
});

test('HUP with a new generation that cannot boot: the old workers keep serving', async () => {
  const { actor, processes, logs, readyAll } = await startArbiter({ workers: 2 });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  const broken = processes.all[2];
  broken.emit({ type: 'MSG.bootFailed', code: 4, message: 'SyntaxError in app.js' });
  broken.exit(4);
  assert.is(JSON.stringify(actor.getSnapshot().value), '{"serving":"steady"}');
  assert.is(actor.getSnapshot().status, 'active', 'no halt');
  assert.equal([processes.all[0].signals, processes.all[1].signals], [[], []]);
  assert.ok(logs.some((line) => /Reload failed, the previous workers keep serving: .*SyntaxError in app\.js/.test(line)), logs.join('\n'));
});

test('HUP with a config that no longer loads keeps everything as it is', async () => {
  const { actor, processes, logs, readyAll } = await startArbiter({
    reload: async () => {
      throw new Error('corral.config.mjs: workers: 0 is out of range');
    },
  });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  assert.is(processes.all.length, 2);
  assert.ok(logs.includes('error: Reload failed, keeping the current workers: corral.config.mjs: workers: 0 is out of range'));
});

test('a reload may change the number of workers, and says so (nworkersChanged) as a scale does', async () => {
  const { actor, processes, ready, readyAll, workerCountChanges } = await startArbiter({ workers: 1, reload: async () => ({ workers: 2, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL }) });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  assert.equal(workerCountChanges, [{ from: 1, to: 2 }]);
  ready(processes.all[1]);
  assert.equal(processes.all[0].signals, ['SIGTERM']);
  ready(processes.all[2]);
  processes.all[0].exit(0);
  assert.is(JSON.stringify(actor.getSnapshot().value), '{"serving":"steady"}');
  assert.is(processes.all.filter((p) => p.signals.length === 0).length, 2);
  // A reload that keeps the number says nothing of it.
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  assert.equal(workerCountChanges, [{ from: 1, to: 2 }]);
});

test('a reload after scaling up completes with the configured number, retiring every old worker', async () => {
  const { actor, processes, ready, readyAll } = await startArbiter({ workers: 2 });
  readyAll();
  actor.send({ type: 'SCALE', workers: 3 });
  ready(processes.all[2]);
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  ready(processes.all[3]);
  assert.equal(processes.all[0].signals, ['SIGTERM'], 'the oldest drains once a new one is ready');
  ready(processes.all[4]);
  assert.equal(processes.all.slice(0, 3).map((p) => p.signals), [['SIGTERM'], ['SIGTERM'], ['SIGTERM']], 'the third old worker goes too');
  processes.all.slice(0, 3).forEach((p) => p.exit(0));
  assert.is(stateOf(actor), '{"serving":"steady"}');
  assert.is(processes.all.length, 5, 'no more than the two new workers were started');
});

test('TTIN adds a worker, TTOU drains the oldest (never below one), WINCH drains all but keeps serving state', async () => {
  const { actor, processes, readyAll } = await startArbiter({ workers: 2 });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGTTIN' });
  assert.is(processes.all.length, 3);
  actor.send({ type: 'SIGNAL', signal: 'SIGTTOU' });
  assert.equal(processes.all[0].signals, ['SIGTERM']);
  processes.all[0].exit(0);
  assert.is(processes.all.length, 3, 'a retired worker is not replaced');
  actor.send({ type: 'SIGNAL', signal: 'SIGTTOU' });
  actor.send({ type: 'SIGNAL', signal: 'SIGTTOU' });
  assert.equal(processes.all.map((p) => p.signals.length), [1, 1, 0], 'stops at one worker');
  processes.all[1].exit(0);
  actor.send({ type: 'SIGNAL', signal: 'SIGWINCH' });
  assert.equal(processes.all[2].signals, ['SIGTERM']);
  processes.all[2].exit(0);
  assert.is(actor.getSnapshot().status, 'active', 'the arbiter stays up with its listeners');
  actor.send({ type: 'SIGNAL', signal: 'SIGTTIN' });
  assert.is(processes.all.length, 4, 'TTIN brings one back');
});

test('a worker that asks to be recycled serves on until its replacement is ready, then drains', async () => {
  const { processes, ready, readyAll, logs } = await startArbiter({ workers: 2 });
  readyAll();
  const [tired] = processes.all;
  tired.emit({ type: 'MSG.recycle', reason: 'served 1000 requests (max 1000)' });
  assert.is(processes.all.length, 3, 'a replacement is spawned at once');
  assert.equal(tired.signals, [], 'and the tired worker keeps serving meanwhile');
  ready(processes.all[2]);
  assert.equal(tired.signals, ['SIGTERM']);
  tired.exit(0);
  assert.is(processes.all.length, 3, 'no further spawn');
  assert.ok(logs.some((line) => line.includes('Replacing worker-1: it served 1000 requests')));
});

test('workers that keep dying right after boot are restarted with a growing back-off', async () => {
  const { processes, logs, ready, advance } = await startArbiter({ workers: 1 });
  const dieYoung = () => {
    const worker = processes.all[processes.all.length - 1];
    ready(worker);
    worker.exit(1);
  };
  dieYoung();
  assert.is(processes.all.length, 2, 'the first crash restarts at once');
  dieYoung();
  advance(999);
  assert.is(processes.all.length, 2, 'the second waits a second');
  advance(1);
  assert.is(processes.all.length, 3);
  dieYoung();
  advance(1999);
  assert.is(processes.all.length, 3, 'the third waits two');
  advance(1);
  assert.is(processes.all.length, 4);
  assert.ok(logs.some((line) => line.startsWith('error: Workers keep dying right after booting (3 in a row); next start in 2 s')), logs.join('\n'));
  // One that serves past the settle time resets the streak: its later death restarts at once.
  ready(processes.all[3]);
  advance(SETTLE);
  processes.all[3].exit(1);
  assert.is(processes.all.length, 5);
});

test('a worker that exits while a reload re-reads the config is forgotten and replaced; TERM then ends the arbiter', async () => {
  let finishReading: (settings: { workers: number; timeoutMs: number; gracefulTimeoutMs: number }) => void = () => {};
  const { actor, processes, readyAll } = await startArbiter({
    workers: 2,
    reload: () => new Promise((resolve) => (finishReading = resolve)),
  });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  assert.is(stateOf(actor), '{"serving":{"reloading":"rereading"}}');
  processes.all[0].exit(1);
  assert.not.ok(actor.getSnapshot().context.workerRefs['worker-1'], 'the exited worker is forgotten');
  assert.is(processes.all.length, 3, 'and replaced');
  actor.send({ type: 'SIGNAL', signal: 'SIGTERM' });
  processes.all.slice(1).forEach((p) => p.exit(0));
  assert.is(actor.getSnapshot().status, 'done', 'TERM reaches dead once the workers have exited');
  finishReading({ workers: 2, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL });
});

test('scaling down also retires a worker waiting to be recycled (WINCH leaves none serving)', async () => {
  const { actor, processes, ready, readyAll } = await startArbiter({ workers: 1 });
  readyAll();
  processes.all[0].emit({ type: 'MSG.recycle', reason: 'served 10 requests (max 10)' });
  assert.is(processes.all.length, 2);
  actor.send({ type: 'SIGNAL', signal: 'SIGWINCH' });
  assert.equal(processes.all[0].signals, ['SIGTERM'], 'the recycling worker drains too');
  assert.equal(processes.all[1].signals, ['SIGTERM']);
  processes.all.forEach((p) => p.exit(0));
  assert.equal(Object.keys(actor.getSnapshot().context.workerRefs), []);
  void ready;
});

test('a HUP whose config fails to load during a roll lets the roll finish instead of stranding it', async () => {
  let reads = 0;
  const { actor, processes, ready, readyAll, logs } = await startArbiter({
    workers: 2,
    reload: async () => {
      reads += 1;
      if (reads === 2) throw new Error('corral.config.mjs: SyntaxError');
      return { workers: 2, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL };
    },
  });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  assert.ok(logs.includes('error: Reload failed, keeping the current workers: corral.config.mjs: SyntaxError'));
  assert.is(stateOf(actor), '{"serving":{"reloading":"rolling"}}', 'the first reload goes on');
  ready(processes.all[2]);
  processes.all[0].exit(0);
  ready(processes.all[3]);
  processes.all[1].exit(0);
  assert.is(stateOf(actor), '{"serving":"steady"}');
  assert.is(Object.keys(actor.getSnapshot().context.workerRefs).length, 2, 'two workers, as wanted');
});

test('the minimum of one worker is the same for TTOU and SCALE, and refusals are said', async () => {
  const { actor, processes, readyAll, logs } = await startArbiter({ workers: 1 });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGTTOU' });
  actor.send({ type: 'SCALE', workers: 0 });
  assert.equal(processes.all[0].signals, [], 'the last worker keeps serving');
  assert.is(actor.getSnapshot().context.workers, 1);
  assert.ok(logs.includes('warning: Not removing a worker: 1 is the minimum (WINCH stops them all but keeps the sockets)'), logs.join('\n'));
  assert.ok(logs.includes('warning: Not scaling to 0 worker(s): the minimum is 1 (WINCH stops them all but keeps the sockets)'), logs.join('\n'));
});

test('a new generation that cannot boot while an earlier roll is half done: the pool is trimmed back to the number wanted', async () => {
  const { actor, processes, readyAll } = await startArbiter({ workers: 2 });
  readyAll();
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
  await settle();
  const third = processes.all[3];
  third.emit({ type: 'MSG.bootFailed', code: 4, message: 'SyntaxError' });
  third.exit(4);
  assert.is(stateOf(actor), '{"serving":"steady"}');
  assert.equal(processes.all[0].signals, ['SIGTERM'], 'the oldest of the three left goes');
  processes.all[0].exit(0);
  assert.is(Object.keys(actor.getSnapshot().context.workerRefs).length, 2);
});

test('in a terminal WINCH is a window resize and ignored (as gunicorn does unless daemonized); sent by someone, it is honoured', async () => {
  const processes = fakeProcesses();
  const logs: string[] = [];
  const log = (_: unknown, params: { level: string; message: string }) => logs.push(`${params.level}: ${params.message}`);
  const machine = arbiterMachine.provide({
    actors: {
      bindListeners: fromPromise(async () => ['http://127.0.0.1:8000']),
      workerHandle: workerHandleMachine.provide({ actors: { workerProcess: processes.logic }, actions: { log } }),
    },
    actions: { log },
  });
  const actor = createActor(machine, {
    input: { workers: 1, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL, killDelayMs: KILL_DELAY, settleMs: SETTLE, attachedToTerminal: true },
  }).start();
  await settle();
  actor.send({ type: 'SIGNAL', signal: 'SIGWINCH' });
  assert.equal(processes.all[0].signals, [], 'a resize stops nothing');
  assert.ok(logs.some((line) => line.startsWith('info: Ignoring signal: winch (in a terminal it means a window resize')), logs.join('\n'));
  actor.send({ type: 'SIGNAL', signal: 'SIGWINCH', by: 'serve()' });
  assert.equal(processes.all[0].signals, ['SIGTERM']);
  actor.stop();
});

test.run();
