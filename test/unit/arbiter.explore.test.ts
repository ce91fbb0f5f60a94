// Explores the arbiter chart (with its worker handles) over every ordering of
// events up to a bounded depth — signals, scaling, workers booting, becoming
// ready, crashing, failing to boot, asking to be recycled, breaking the
// protocol, binds and config re-reads succeeding or failing, timers firing —
// and checks in every state reached that:
//   - every worker the arbiter holds can still be reported gone, and every
//     non-final state takes the shutdown signals;
//   - every worker that exited is forgotten;
//   - TERM then leads to `dead` once the workers obey the signals they are
//     sent, and no worker is started after it;
//   - with good weather from there on, the pool converges to the number of
//     workers wanted, all ready, and the arbiter to `serving.steady`;
//   - readiness (GET /readyz) is off from the moment a stop begins;
//   - a halt of the dirty pool ends the arbiter with the app-load exit status.
// It runs twice: draining at once on TERM, and with a drain delay (TERM first
// turns readiness off and serves on, a timer of the chart's then drains), with
// a memory limit that heartbeats can pass.
// The moves are derived from the state, so a new state or event in the charts
// is explored without editing this test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ArbiterSignal, WORKER_APP_LOAD_ERROR, reportsReady } from '../../machines/arbiter.js';
import { type ArbiterHarness, GRACEFUL, TIMEOUT, arbiterHarness } from '../helpers/arbiter-harness.js';
import { exploreBreadthFirst } from '../helpers/explore.js';
import type { FakeProcess } from '../helpers/fake-processes.js';

const DEPTH = Number(process.env.CORRAL_EXPLORE_DEPTH ?? 4);
const SIGNALS: ArbiterSignal[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGUSR1', 'SIGUSR2'];
const SCALES = [0, 1, 3];
const MEMORY_LIMIT = 1000;
const DIRTY_HALT = 'A dirty process failed to boot.';

/** The chart's settings for this run of the exploration. */
let options: { drainDelayMs: number; maxMemoryBytes: number } = { drainDelayMs: 0, maxMemoryBytes: 0 };

interface Move {
  label: string;
  run(h: ArbiterHarness): Promise<void>;
}

const handleState = (h: ArbiterHarness, process: FakeProcess) => {
  const handle = h.handleOf(process);
  return handle ? JSON.stringify(handle.getSnapshot().value) : 'gone';
};
const isBooting = (h: ArbiterHarness, process: FakeProcess) => handleState(h, process) === '"booting"';
const isServing = (h: ArbiterHarness, process: FakeProcess) => handleState(h, process).startsWith('{"serving"');
const isLeaving = (h: ArbiterHarness, process: FakeProcess) => handleState(h, process).startsWith('{"draining"');

/** Every move the test can make in the harness's present state. */
function movesOf(h: ArbiterHarness): Move[] {
  if (h.actor.getSnapshot().status !== 'active') return [];
  const moves: Move[] = [];
  if (h.pendingBind.length > 0) {
    moves.push({ label: 'bind ok', run: async (h) => (h.pendingBind.shift()!.resolve(['http://127.0.0.1:8000']), await settleAll()) });
    moves.push({ label: 'bind fails', run: async (h) => (h.pendingBind.shift()!.reject(new Error('EADDRINUSE')), await settleAll()) });
  }
  if (h.pendingReload.length > 0) {
    const settings = (workers: number) => ({ workers, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL });
    moves.push({ label: 'reload ok', run: async (h) => (h.pendingReload.shift()!.resolve(settings(h.actor.getSnapshot().context.workers)), await settleAll()) });
    moves.push({ label: 'reload ok +1', run: async (h) => (h.pendingReload.shift()!.resolve(settings(h.actor.getSnapshot().context.workers + 1)), await settleAll()) });
    moves.push({ label: 'reload fails', run: async (h) => (h.pendingReload.shift()!.reject(new Error('bad config')), await settleAll()) });
  }
  for (const signal of SIGNALS) moves.push({ label: signal, run: (h) => h.send({ type: 'SIGNAL', signal }) });
  for (const workers of SCALES) moves.push({ label: `SCALE ${workers}`, run: (h) => h.send({ type: 'SCALE', workers }) });
  moves.push({ label: 'dirty pool halts', run: (h) => h.send({ type: 'DIRTY.HALTED', reason: DIRTY_HALT }) });
  h.live().forEach((process, index) => {
    const at = (h: ArbiterHarness) => h.live()[index];
    if (isBooting(h, process)) {
      moves.push({ label: `#${index} ready`, run: (h) => h.ready(at(h)) });
      moves.push({
        label: `#${index} boot fails`,
        run: async (h) => {
          at(h).emit({ type: 'MSG.bootFailed', code: 4, message: 'SyntaxError' });
          await h.exit(at(h), 4);
        },
      });
    }
    if (isServing(h, process)) moves.push({ label: `#${index} recycle`, run: async (h) => (at(h).emit({ type: 'MSG.recycle', reason: 'served 10 requests' }), await settleAll()) });
    if (isServing(h, process) && options.maxMemoryBytes > 0) {
      const stats = { inFlight: 0, served: 0, lagMs: 0, rss: options.maxMemoryBytes + 1 };
      moves.push({ label: `#${index} over memory`, run: async (h) => (at(h).emit({ type: 'MSG.heartbeat', stats }), await settleAll()) });
    }
    moves.push({ label: `#${index} exits 0`, run: (h) => h.exit(at(h), 0) });
    moves.push({ label: `#${index} crashes`, run: (h) => h.exit(at(h), 1) });
    moves.push({ label: `#${index} killed`, run: (h) => h.exit(at(h), null, 'SIGKILL') });
    moves.push({ label: `#${index} protocol error`, run: async (h) => (at(h).emit({ type: 'PROCESS.PROTOCOL_ERROR', message: 'garbage' }), await settleAll()) });
  });
  const due = h.nextTimer();
  if (due !== undefined) moves.push({ label: `+${due} ms`, run: async (h) => (h.clock.increment(due), await settleAll()) });
  return moves;
}

const settleAll = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What identifies a state for the search: the charts' states and what decides their future, not ids or pids. */
function keyOf(h: ArbiterHarness): string {
  const snapshot = h.actor.getSnapshot();
  const { context } = snapshot;
  const workers = Object.entries(context.workerInfo)
    .map(([id, info]) => {
      const handle = context.workerRefs[id];
      return JSON.stringify([info.generation - context.generation, info.ready, info.retiring, !!info.recycling, info.retireWith, handle && handle.getSnapshot().value]);
    })
    .sort();
  return JSON.stringify([
    snapshot.status,
    snapshot.value,
    context.workers,
    Math.min(context.crashStreak, 3),
    context.announcedReady,
    context.stopMode,
    context.exitCode,
    context.haltReason,
    workers,
    h.live().length,
    h.pendingBind.length,
    h.pendingReload.length,
  ]);
}

async function replay(path: Move[]): Promise<ArbiterHarness> {
  const h = await arbiterHarness({ workers: 2, ...options });
  for (const move of path) await move.run(h);
  return h;
}

const describe = (path: Move[]) => path.map((move) => move.label).join(' → ') || '(start)';
const stateText = (h: ArbiterHarness) => JSON.stringify(h.actor.getSnapshot().value);

/** Checks that need no further events: what the chart can still take, and what it holds. */
function checkStructure(h: ArbiterHarness, path: Move[]) {
  const snapshot = h.actor.getSnapshot();
  const where = `after ${describe(path)} (state ${stateText(h)})`;
  for (const process of h.processes.all) {
    if (h.exited.has(process.id)) assert.not.ok(h.handleOf(process), `${process.id} exited but is still held ${where}`);
  }
  if (snapshot.status !== 'active') return;
  for (const id of Object.keys(snapshot.context.workerRefs)) {
    const exit = { id, pid: 1, exitCode: 0, signal: null, cause: 'exited' as const, established: true, stats: { inFlight: 0, served: 0, lagMs: 0, rss: 0 } };
    assert.ok(snapshot.can({ type: 'WORKER.EXITED', exit }), `a worker's exit is not handled ${where}`);
  }
  const draining = snapshot.matches('draining');
  const stopping = draining || snapshot.matches('delayingDrain');
  // Taken everywhere but in a drain a halt already explains (its first cause is kept).
  const halted = snapshot.context.haltReason !== undefined;
  assert.is(snapshot.can({ type: 'DIRTY.HALTED', reason: DIRTY_HALT }), !(draining && halted), `the dirty pool's halt is ${draining && halted ? '' : 'not '}taken ${where}`);
  if (stopping) assert.not.ok(reportsReady(snapshot), `ready while stopping ${where}`);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) {
    if (draining && (signal === 'SIGTERM' || snapshot.context.stopMode === 'quick')) continue;
    assert.ok(snapshot.can({ type: 'SIGNAL', signal }), `${signal} is not handled ${where}`);
  }
}

const hasBeenSignalled = (process: FakeProcess) => process.signals.some((signal) => signal !== 'SIGUSR1');

/** TERM, then workers that obey what they are sent: the arbiter must end, starting nobody new. */
async function checkShutdown(path: Move[]) {
  const h = await replay(path);
  if (h.actor.getSnapshot().status !== 'active') return checkDirtyHalt(h, path, `after ${describe(path)}`);
  const where = `TERM after ${describe(path)} (state ${stateText(h)})`;
  if (!h.actor.getSnapshot().matches('draining') && !h.actor.getSnapshot().matches('delayingDrain')) await h.send({ type: 'SIGNAL', signal: 'SIGTERM' });
  assert.not.ok(h.actor.getSnapshot().status === 'active' && reportsReady(h.actor.getSnapshot()), `still ready after TERM: ${where}`);
  const spawned = h.processes.all.length;
  for (let round = 0; round < 50 && h.actor.getSnapshot().status === 'active'; round += 1) {
    const obeying = h.live().filter(hasBeenSignalled);
    for (const process of obeying) await h.exit(process, 0);
    if (obeying.length > 0) continue;
    const due = h.nextTimer();
    assert.ok(due !== undefined, `stuck in ${stateText(h)} with ${h.live().length} live worker(s) that were never told to leave: ${where}`);
    h.clock.increment(due!);
    await settleAll();
  }
  assert.is(h.actor.getSnapshot().status, 'done', `never reached dead: ${where}; logs:\n${h.logs.slice(-8).join('\n')}`);
  assert.is(h.processes.all.length, spawned, `a worker was started during the shutdown: ${where}`);
  checkDirtyHalt(h, path, where);
}

/**
 * A halt of the dirty pool is never lost: the arbiter's exit says the app could not be loaded, and why;
 * when a worker's boot failure halted it first, that first cause is the one reported.
 */
function checkDirtyHalt(h: ArbiterHarness, path: Move[], where: string) {
  const dirtyAt = path.findIndex((move) => move.label === 'dirty pool halts');
  if (dirtyAt < 0) return;
  const output = h.actor.getSnapshot().output!;
  assert.is(output.exitCode, WORKER_APP_LOAD_ERROR, `the dirty pool's halt was lost: ${where}`);
  const bootFailedFirst = path.slice(0, dirtyAt).some((move) => move.label.endsWith('boot fails'));
  if (bootFailedFirst) assert.ok(output.haltReason !== undefined, `no halt reason: ${where}`);
  else assert.is(output.haltReason, DIRTY_HALT, `the dirty pool's reason was lost: ${where}`);
}

/** Good weather from here on: binds and reloads succeed, new workers boot, leaving ones leave. */
async function checkConvergence(path: Move[]) {
  const h = await replay(path);
  const snapshot = () => h.actor.getSnapshot();
  if (snapshot().status !== 'active' || snapshot().matches('draining') || snapshot().matches('delayingDrain')) return;
  const where = `after ${describe(path)}`;
  for (let round = 0; round < 80; round += 1) {
    let acted = false;
    while (h.pendingBind.length > 0) (h.pendingBind.shift()!.resolve(['http://127.0.0.1:8000']), (acted = true));
    while (h.pendingReload.length > 0) (h.pendingReload.shift()!.resolve({ workers: snapshot().context.workers, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL }), (acted = true));
    await settleAll();
    for (const process of h.live()) {
      if (isBooting(h, process)) (await h.ready(process), (acted = true));
      else if (isLeaving(h, process) && hasBeenSignalled(process)) (await h.exit(process, 0), (acted = true));
    }
    if (acted) continue;
    const quiet = snapshot().matches({ serving: 'steady' }) && h.live().every((process) => isServing(h, process));
    if (quiet) break;
    // Only time is left to pass: keep the serving ones alive across it.
    for (const process of h.live()) if (isServing(h, process)) process.emit({ type: 'MSG.heartbeat', stats: { inFlight: 0, served: 0, lagMs: 0, rss: 1 } });
    const due = h.nextTimer();
    if (due === undefined) break;
    h.clock.increment(due);
    await settleAll();
  }
  const { context } = snapshot();
  const serving = h.live().filter((process) => isServing(h, process));
  assert.equal(stateText(h), '{"serving":"steady"}', `did not settle in serving.steady ${where}`);
  assert.is(serving.length, context.workers, `${serving.length} serving worker(s), ${context.workers} wanted ${where}`);
  assert.is(h.live().length, serving.length, `workers left over that are not serving ${where}`);
}

const explorations = [
  { name: 'draining at once on TERM', options: { drainDelayMs: 0, maxMemoryBytes: 0 } },
  { name: 'with a drain delay and a memory limit', options: { drainDelayMs: 5000, maxMemoryBytes: MEMORY_LIMIT } },
];

for (const exploration of explorations) test(`the arbiter chart holds its invariants over every ordering of events to depth ${DEPTH}, ${exploration.name}`, async () => {
  options = exploration.options;
  const started = Date.now();
  const { states, transitions } = await exploreBreadthFirst({
    depth: DEPTH,
    replay,
    movesOf,
    keyOf,
    async check(h, path) {
      checkStructure(h, path);
      if (path.length === 0) return;
      await checkShutdown(path);
      await checkConvergence(path);
    },
  });
  console.log(`explored ${states} distinct states over ${transitions} transitions (depth ${DEPTH}) in ${Date.now() - started} ms`);
  assert.ok(states > 100, 'the exploration reached a meaningful part of the chart');
});

test.run();
