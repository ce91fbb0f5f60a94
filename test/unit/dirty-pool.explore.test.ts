// Explores the dirty pool chart (with its process handles) over every ordering
// of its events to a bounded depth — processes ready, failing to boot, dying
// idle or mid-call, calls started and answered, SCALE, RELOAD, STOP, timers
// firing — and checks in every state reached: STOP, with the processes exiting
// as they are told to (or killed when their timers run out), always ends the
// pool; a process is never handed to the router as callable unless it is ready
// and not leaving; and once serving and steady, the pool keeps as many
// processes as wanted. The moves come from the state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback } from 'xstate';
import { callableIds, dirtyPoolMachine } from '../../machines/dirty-pool.js';
import { type DirtyProcessCommand, type DirtyProcessEvent, dirtyProcessMachine } from '../../machines/dirty-process.js';
import { exploreBreadthFirst } from '../helpers/explore.js';
import { nextTimer, simulatedClock } from '../helpers/fake-clock.js';
import { settle } from '../helpers/fake-processes.js';

const DEPTH = Number(process.env.CORRAL_EXPLORE_DEPTH ?? 5);

interface Fake {
  id: string;
  signals: string[];
  send(event: DirtyProcessEvent): void;
  exited: boolean;
}

interface Harness {
  actor: ReturnType<typeof createActor<typeof dirtyPoolMachine>>;
  clock: ReturnType<typeof simulatedClock>['clock'];
  fakes: Fake[];
  nextCall: number;
}

let current: Harness;
const machine = dirtyPoolMachine.provide({
  actors: {
    dirtyProcess: dirtyProcessMachine.provide({
      actors: {
        dirtyProcess: fromCallback<DirtyProcessCommand, { id: string }>(({ input, sendBack, receive }) => {
          const fake: Fake = { id: input.id, signals: [], send: sendBack, exited: false };
          current.fakes.push(fake);
          sendBack({ type: 'PROCESS.SPAWNED', pid: 100 + current.fakes.length });
          receive((command) => fake.signals.push(command.signal));
        }),
      },
    }),
  },
});

interface Move {
  label: string;
  run(h: Harness): void;
}

const live = (h: Harness) => h.fakes.filter((fake) => !fake.exited && h.actor.getSnapshot().context.processRefs[fake.id]);
const exit = (fake: Fake, exitCode: number | null, signal: string | null = null) => {
  fake.exited = true;
  fake.send({ type: 'PROCESS.EXITED', exitCode, signal });
};

function movesOf(h: Harness): Move[] {
  if (h.actor.getSnapshot().status !== 'active') return [];
  const send = (label: string, event: Parameters<Harness['actor']['send']>[0]): Move => ({ label, run: (h) => h.actor.send(event) });
  const moves: Move[] = [send('SCALE 1', { type: 'SCALE', workers: 1 }), send('SCALE 2', { type: 'SCALE', workers: 2 }), send('RELOAD', { type: 'RELOAD', workers: 1 }), send('STOP', { type: 'STOP' }), send('STOP quick', { type: 'STOP', quick: true })];
  // Moves name processes by id: each replay has fakes of its own.
  const fakeOf = (h: Harness, id: string) => live(h).find((fake) => fake.id === id)!;
  const refOf = (h: Harness, id: string) => h.actor.getSnapshot().context.processRefs[id];
  for (const { id } of live(h)) {
    const handle = refOf(h, id).getSnapshot();
    if (handle.matches('booting')) {
      moves.push({ label: `${id} ready`, run: (h) => fakeOf(h, id).send({ type: 'MSG.ready' }) });
      moves.push({ label: `${id} boot fails`, run: (h) => (fakeOf(h, id).send({ type: 'MSG.bootFailed', message: 'x' }), exit(fakeOf(h, id), 4)) });
    }
    if (handle.matches({ serving: 'idle' })) {
      moves.push({ label: `${id} call`, run: (h) => refOf(h, id).send({ type: 'CALL.START', callId: h.nextCall++, name: 'f', timeoutMs: 1000 }) });
    }
    if (handle.matches({ serving: 'busy' })) {
      moves.push({ label: `${id} answers`, run: (h) => refOf(h, id).send({ type: 'CALL.END', callId: refOf(h, id).getSnapshot().context.call!.id }) });
    }
    moves.push({ label: `${id} dies`, run: (h) => exit(fakeOf(h, id), 1) });
  }
  const due = nextTimer(h.clock);
  if (due !== undefined) moves.push({ label: `+${due} ms`, run: (h) => h.clock.increment(due) });
  return moves;
}

async function replay(path: Move[]): Promise<Harness> {
  const { clock } = simulatedClock();
  current = { clock, fakes: [], nextCall: 1 } as unknown as Harness;
  const h = current;
  h.actor = createActor(machine, { clock, input: { workers: 1, bootTimeoutMs: 5000, gracefulTimeoutMs: 3000, killDelayMs: 1000 } }).start();
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
  const handles = Object.entries(snapshot.context.processRefs).map(([id, ref]) => [id, ref.getSnapshot().value, snapshot.context.processInfo[id]]);
  return JSON.stringify([snapshot.status, snapshot.value, snapshot.context.workers, snapshot.context.generation - snapshot.context.spawned, handles.length, handles.map(([, value, info]) => [value, info])]);
};

/** STOP, then each process does what it is told (exits on TERM/QUIT/KILL) and timers run: the pool must end. */
async function checkStopEnds(path: Move[]) {
  const h = await replay(path);
  if (h.actor.getSnapshot().status !== 'active') return;
  h.actor.send({ type: 'STOP' });
  await settle();
  for (let round = 0; round < 30 && h.actor.getSnapshot().status === 'active'; round += 1) {
    for (const fake of live(h)) {
      const ref = h.actor.getSnapshot().context.processRefs[fake.id];
      const call = ref.getSnapshot().context.call;
      // SIGKILL ends a process whatever it does; a busy one finishes its call; one told to leave leaves.
      if (fake.signals.includes('SIGKILL')) exit(fake, null, 'SIGKILL');
      else if (call && ref.getSnapshot().matches('serving')) ref.send({ type: 'CALL.END', callId: call.id });
      else if (fake.signals.length > 0) exit(fake, 0);
    }
    await settle();
    const due = nextTimer(h.clock);
    if (h.actor.getSnapshot().status === 'active' && due !== undefined) h.clock.increment(due);
    await settle();
  }
  assert.is(h.actor.getSnapshot().status, 'done', `STOP never ended the pool after ${describe(path)} (${JSON.stringify(h.actor.getSnapshot().value)})`);
}

function checkInvariants(h: Harness, path: Move[]) {
  const snapshot = h.actor.getSnapshot();
  if (snapshot.status !== 'active') return;
  for (const id of callableIds(snapshot.context)) {
    const handle = snapshot.context.processRefs[id]?.getSnapshot();
    assert.ok(handle?.matches('serving'), `${id} is callable but ${JSON.stringify(handle?.value)} after ${describe(path)}`);
  }
  if (snapshot.matches({ serving: 'steady' })) {
    const staying = Object.values(snapshot.context.processInfo).filter((info) => !info.retiring).length;
    assert.is(staying, snapshot.context.workers, `steady with ${staying} processes staying, ${snapshot.context.workers} wanted, after ${describe(path)}`);
  }
}

test(`the dirty pool keeps its invariants and can be stopped from every state reached to depth ${DEPTH}`, async () => {
  const started = Date.now();
  const { states, transitions } = await exploreBreadthFirst({
    depth: DEPTH,
    replay,
    movesOf,
    keyOf,
    async check(h, path) {
      checkInvariants(h, path);
      await checkStopEnds(path);
    },
  });
  console.log(`explored ${states} distinct dirty pool states over ${transitions} transitions (depth ${DEPTH}) in ${Date.now() - started} ms`);
  assert.ok(states > 20);
});

test.run();
