// Explores the succession chart over every ordering of its events to a bounded
// depth — USR2s, the new arbiter starting, failing to start or exiting (also
// reports that come late, from an upgrade already over), the arbiter that
// started this one exiting — with and without a predecessor, and checks in
// every state reached that:
//   - at most one new arbiter is being started or running at a time;
//   - the sockets count as shared exactly while one is, or while the
//     predecessor still serves on them;
//   - the take-over happens once, and only after the predecessor exited;
//   - a late report of an earlier upgrade changes nothing (XState drops what a
//     stopped callback actor sends; the chart relies on it, so it is checked);
//   - USR2 is always taken, and once the running upgrade ends another one starts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Actor, createActor, fromCallback } from 'xstate';
import { type SuccessionEvent, sharesSockets, successionMachine } from '../../machines/succession.js';
import { exploreBreadthFirst } from '../helpers/explore.js';

const DEPTH = Number(process.env.CORRAL_EXPLORE_DEPTH ?? 4) + 2;

interface Harness {
  actor: Actor<typeof successionMachine>;
  /** One per new arbiter started: its reporter and whether its effect is still running. */
  upgrades: { report: (event: SuccessionEvent) => void; live: boolean }[];
  watching: ((event: SuccessionEvent) => void) | undefined;
  predecessorExited: boolean;
  takeOvers: number;
}

interface Move {
  label: string;
  run(h: Harness): void;
}

function start(predecessorPid: number | undefined): Harness {
  const h: Harness = { actor: undefined!, upgrades: [], watching: undefined, predecessorExited: false, takeOvers: 0 };
  h.actor = createActor(
    successionMachine.provide({
      actions: { takeOver: () => void (h.takeOvers += 1) },
      actors: {
        startSuccessor: fromCallback<SuccessionEvent>(({ sendBack }) => {
          const upgrade = { report: sendBack, live: true };
          h.upgrades.push(upgrade);
          return () => void (upgrade.live = false);
        }),
        watchPredecessor: fromCallback<SuccessionEvent, { pid: number }>(({ sendBack }) => {
          h.watching = sendBack;
          return () => void (h.watching = undefined);
        }),
      },
    }),
    { input: { predecessorPid } },
  ).start();
  return h;
}

let predecessorPid: number | undefined;

function movesOf(h: Harness): Move[] {
  const moves: Move[] = [{ label: 'USR2', run: (h) => h.actor.send({ type: 'UPGRADE' }) }];
  const liveIndex = h.upgrades.findIndex((upgrade) => upgrade.live);
  if (liveIndex >= 0) {
    const live = (h: Harness) => h.upgrades[liveIndex].report;
    moves.push({ label: 'new arbiter started', run: (h) => live(h)({ type: 'SUCCESSOR.STARTED', pid: 5000 + liveIndex }) });
    moves.push({ label: 'new arbiter failed to start', run: (h) => live(h)({ type: 'SUCCESSOR.FAILED', message: 'ENOENT' }) });
    moves.push({ label: 'new arbiter exited', run: (h) => live(h)({ type: 'SUCCESSOR.EXITED', exitCode: 1, signal: null }) });
  }
  const stale = h.upgrades.findIndex((upgrade) => !upgrade.live);
  if (stale >= 0) {
    const late = (h: Harness) => h.upgrades[stale].report;
    moves.push({ label: 'late: earlier arbiter started', run: (h) => late(h)({ type: 'SUCCESSOR.STARTED', pid: 4000 }) });
    moves.push({ label: 'late: earlier arbiter exited', run: (h) => late(h)({ type: 'SUCCESSOR.EXITED', exitCode: 0, signal: null }) });
  }
  if (h.watching) moves.push({ label: 'predecessor exited', run: (h) => ((h.predecessorExited = true), h.watching!({ type: 'PREDECESSOR.EXITED' })) });
  return moves;
}

async function replay(path: Move[]): Promise<Harness> {
  const h = start(predecessorPid);
  for (const move of path) move.run(h);
  return h;
}

const keyOf = (h: Harness) =>
  JSON.stringify([h.actor.getSnapshot().value, h.actor.getSnapshot().context.successorPid !== undefined, h.upgrades.some((u) => !u.live), h.takeOvers]);

function check(h: Harness, path: Move[]) {
  const where = `after ${path.map((move) => move.label).join(' → ') || '(start)'} (state ${JSON.stringify(h.actor.getSnapshot().value)})`;
  const snapshot = h.actor.getSnapshot();
  const live = h.upgrades.filter((upgrade) => upgrade.live).length;
  assert.ok(live <= 1, `${live} upgrades under way at once ${where}`);
  const predecessorServes = predecessorPid !== undefined && !h.predecessorExited;
  assert.is(sharesSockets(snapshot), live === 1 || predecessorServes, `sockets shared: ${sharesSockets(snapshot)} ${where}`);
  assert.is(h.takeOvers, h.predecessorExited ? 1 : 0, `took over ${h.takeOvers} time(s) ${where}`);
  assert.is(snapshot.context.successorPid !== undefined, snapshot.matches({ successor: { upgrading: 'running' } }), `successor pid vs state ${where}`);
  assert.ok(snapshot.can({ type: 'UPGRADE' }), `USR2 not taken ${where}`);
  // Liveness: the upgrade under way ends, and the next USR2 starts a new arbiter.
  const future = start(predecessorPid);
  for (const move of path) move.run(future);
  future.upgrades.find((upgrade) => upgrade.live)?.report({ type: 'SUCCESSOR.EXITED', exitCode: 0, signal: null });
  const before = future.upgrades.length;
  future.actor.send({ type: 'UPGRADE' });
  assert.is(future.upgrades.length, before + 1, `no new arbiter started once the last one ended ${where}`);
  future.actor.stop();
}

for (const pid of [undefined, 99]) test(`the succession chart holds its invariants over every ordering of events to depth ${DEPTH}, ${pid ? 'started by an upgrade' : 'started alone'}`, async () => {
  predecessorPid = pid;
  const { states, transitions } = await exploreBreadthFirst({ depth: DEPTH, replay, movesOf, keyOf, check });
  console.log(`explored ${states} distinct states over ${transitions} transitions (depth ${DEPTH})`);
  assert.ok(states >= 6, 'the exploration reached the chart');
});

test.run();
