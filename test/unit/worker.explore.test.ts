// Explores the worker chart over every ordering of its events up to a bounded
// depth — the app loading or failing, the kind listening, failing, throwing or
// drained, DRAIN, STOP, ABORTED, the arbiter gone, a crash, an effect failing,
// timers firing — and checks in every state reached that it can still be
// ended: STOP, ARBITER.GONE and ABORTED each end it at once (ABORTED with exit
// 1), and DRAIN ends it once its kind has drained or the graceful timeout is
// over. The moves come from the state, so new states or events are explored
// without editing this test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, fromPromise } from 'xstate';
import { type KindReport, type WorkerEvent, guardEffects, workerMachine } from '../../machines/worker.js';
import { exploreBreadthFirst } from '../helpers/explore.js';
import { nextTimer, simulatedClock } from '../helpers/fake-clock.js';
import { settle } from '../helpers/fake-processes.js';

const DEPTH = Number(process.env.CORRAL_EXPLORE_DEPTH ?? 6);
const HEARTBEAT = 1000;
const GRACEFUL = 5000;

interface Harness {
  actor: ReturnType<typeof createActor<typeof workerMachine>>;
  clock: ReturnType<typeof simulatedClock>['clock'];
  load?: { resolve(app: unknown): void; reject(error: Error): void };
  kind?: (report: KindReport) => void;
  kindThrowsOnDrain: boolean;
}

let current: Harness;
const machine = workerMachine.provide({
  actors: {
    loadApp: fromPromise(() => new Promise((resolve, reject) => (current.load = { resolve, reject }))),
    kind: fromCallback(({ sendBack, receive }) => {
      const harness = current;
      harness.kind = sendBack;
      receive(() => {
        if (harness.kindThrowsOnDrain) throw new Error('close EBADF');
      });
      return () => (harness.kind = undefined);
    }),
  },
  actions: guardEffects({
    reportBooted: () => {},
    reportReady: () => {},
    reportBootFailure: () => {},
    sendHeartbeat: () => {},
    reportEffectFailure: () => {},
    reportAborted: () => {},
  }),
});

interface Move {
  label: string;
  run(h: Harness): void;
}

function movesOf(h: Harness): Move[] {
  if (h.actor.getSnapshot().status !== 'active') return [];
  const send = (event: WorkerEvent): Move => ({ label: event.type, run: (h) => h.actor.send(event) });
  const moves: Move[] = [
    send({ type: 'DRAIN' }),
    send({ type: 'STOP' }),
    send({ type: 'ARBITER.GONE' }),
    send({ type: 'ABORTED' }),
    send({ type: 'CRASHED', message: 'boom' }),
    send({ type: 'EFFECT.FAILED', effect: 'sendHeartbeat', message: 'EMFILE' }),
    { label: 'kind will throw on DRAIN', run: (h) => (h.kindThrowsOnDrain = true) },
  ];
  if (h.load) {
    moves.push({ label: 'app loads', run: (h) => h.load!.resolve('app') });
    moves.push({ label: 'app fails to load', run: (h) => h.load!.reject(new Error('SyntaxError')) });
  }
  if (h.kind) {
    for (const report of [{ type: 'KIND.LISTENING' }, { type: 'KIND.DRAINED' }, { type: 'KIND.FAILED', message: 'EADDRINUSE' }] as KindReport[]) {
      moves.push({ label: report.type, run: (h) => h.kind?.(report) });
    }
  }
  const due = nextTimer(h.clock);
  if (due !== undefined) moves.push({ label: `+${due} ms`, run: (h) => h.clock.increment(due) });
  return moves;
}

async function replay(path: Move[]): Promise<Harness> {
  const { clock } = simulatedClock();
  current = { clock, kindThrowsOnDrain: false } as Harness;
  const h = current;
  h.actor = createActor(machine, { clock, input: { heartbeatMs: HEARTBEAT, gracefulTimeoutMs: GRACEFUL } }).start();
  await settle();
  for (const move of path) {
    current = h;
    move.run(h);
    await settle();
  }
  return h;
}

const describe = (path: Move[]) => path.map((move) => move.label).join(' → ') || '(start)';
const keyOf = (h: Harness) => {
  const snapshot = h.actor.getSnapshot();
  return JSON.stringify([snapshot.status, snapshot.value, snapshot.context.exitCode, !!h.load, !!h.kind, h.kindThrowsOnDrain]);
};

async function checkEnds(path: Move[], ending: WorkerEvent, exitCode?: number) {
  const h = await replay(path);
  if (h.actor.getSnapshot().status !== 'active') return;
  h.actor.send(ending);
  await settle();
  assert.is(h.actor.getSnapshot().status, 'done', `${ending.type} did not end the worker after ${describe(path)} (${JSON.stringify(h.actor.getSnapshot().value)})`);
  if (exitCode !== undefined) assert.is(h.actor.getSnapshot().output?.exitCode, exitCode, `${ending.type} after ${describe(path)}`);
}

async function checkDrainEnds(path: Move[]) {
  const h = await replay(path);
  if (h.actor.getSnapshot().status !== 'active') return;
  h.actor.send({ type: 'DRAIN' });
  await settle();
  // The kind drains, or the graceful timeout passes: either way the worker ends, without anything else sent.
  for (let round = 0; round < 20 && h.actor.getSnapshot().status === 'active'; round += 1) {
    if (h.load) h.load.reject(new Error('stopped'));
    h.kind?.({ type: 'KIND.DRAINED' });
    await settle();
    const due = nextTimer(h.clock);
    if (h.actor.getSnapshot().status === 'active' && due !== undefined) h.clock.increment(due);
    await settle();
  }
  assert.is(h.actor.getSnapshot().status, 'done', `DRAIN never ended the worker after ${describe(path)} (${JSON.stringify(h.actor.getSnapshot().value)})`);
}

test(`the worker chart can be ended from every state reached by any ordering of events to depth ${DEPTH}`, async () => {
  const started = Date.now();
  const { states, transitions } = await exploreBreadthFirst({
    depth: DEPTH,
    replay,
    movesOf,
    keyOf,
    async check(_, path) {
      await checkEnds(path, { type: 'STOP' });
      await checkEnds(path, { type: 'ARBITER.GONE' });
      await checkEnds(path, { type: 'ABORTED' }, 1);
      await checkDrainEnds(path);
    },
  });
  console.log(`explored ${states} distinct worker states over ${transitions} transitions (depth ${DEPTH}) in ${Date.now() - started} ms`);
  assert.ok(states > 10);
});

test.run();
