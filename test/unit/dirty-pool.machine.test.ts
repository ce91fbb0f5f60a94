// The dirty pool and dirty process charts with fake processes on a simulated
// clock: boot, a call past its deadline, a crash, scale, a rolling reload that
// keeps a process for every call, a reload whose module no longer loads, stop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback } from 'xstate';
import { callableIds, dirtyPoolMachine } from '../../machines/dirty-pool.js';
import type { DirtyExit, DirtyProcessCommand, DirtyProcessEvent } from '../../machines/dirty-process.js';
import { dirtyProcessMachine } from '../../machines/dirty-process.js';
import { simulatedClock } from '../helpers/fake-clock.js';

interface FakeDirty {
  id: string;
  pid: number;
  signals: string[];
  emit(event: DirtyProcessEvent): void;
  exit(exitCode: number | null, signal?: string): void;
}

function run(workers = 2) {
  const { clock, advance } = simulatedClock();
  const processes: FakeDirty[] = [];
  const logs: string[] = [];
  const exits: DirtyExit[] = [];
  const finished: { ok: boolean; reason?: string }[] = [];
  let nextPid = 500;
  const log = (_: unknown, { level, message }: { level: string; message: string }) => void logs.push(`${level}: ${message}`);
  const machine = dirtyPoolMachine.provide({
    actors: {
      dirtyProcess: dirtyProcessMachine.provide({
        actors: {
          dirtyProcess: fromCallback<DirtyProcessCommand, { id: string }>(({ input, sendBack, receive }) => {
            const fake: FakeDirty = {
              id: input.id,
              pid: nextPid++,
              signals: [],
              emit: (event) => sendBack(event),
              exit: (exitCode, signal) => sendBack({ type: 'PROCESS.EXITED', exitCode, signal: signal ?? null }),
            };
            processes.push(fake);
            sendBack({ type: 'PROCESS.SPAWNED', pid: fake.pid });
            receive((command) => fake.signals.push(command.signal));
          }),
        },
        actions: { log },
      }),
    },
    actions: {
      log,
      processExited: (_, { exit }) => void exits.push(exit),
      reloadFinished: (_, outcome) => void finished.push(outcome),
    },
  });
  const actor = createActor(machine, { clock, input: { workers, bootTimeoutMs: 30_000, gracefulTimeoutMs: 30_000, killDelayMs: 1000 } }).start();
  const live = () => processes.filter((p) => actor.getSnapshot().context.processRefs[p.id]);
  const ref = (id: string) => actor.getSnapshot().context.processRefs[id];
  const bootAll = () => live().forEach((p) => p.emit({ type: 'MSG.ready' }));
  return { actor, advance, processes, logs, exits, finished, live, ref, bootAll };
}

test('boots its processes, serves once all are ready; a call past its deadline kills the process, which is replaced', () => {
  const { actor, advance, processes, logs, exits, ref, bootAll } = run(2);
  assert.is(processes.length, 2);
  assert.ok(actor.getSnapshot().matches('booting'));
  bootAll();
  assert.ok(actor.getSnapshot().matches({ serving: 'steady' }));
  assert.equal(callableIds(actor.getSnapshot().context), ['dirty-1', 'dirty-2']);
  ref('dirty-1')!.send({ type: 'CALL.START', callId: 7, name: 'infer', timeoutMs: 2000 });
  advance(1999);
  assert.equal(processes[0].signals, []);
  advance(1);
  assert.equal(processes[0].signals, ['SIGKILL']);
  assert.ok(logs.some((line) => /DIRTY CALL TIMEOUT: 'infer' ran past 2000 ms/.test(line)), logs.join('\n'));
  processes[0].exit(null, 'SIGKILL');
  assert.is(exits[0].cause, 'callTimeout');
  assert.is(exits[0].callId, 7);
  assert.is(processes.length, 3, 'a replacement is started');
  // A call answered in time changes nothing.
  ref('dirty-2')!.send({ type: 'CALL.START', callId: 8, name: 'infer', timeoutMs: 2000 });
  ref('dirty-2')!.send({ type: 'CALL.END', callId: 8 });
  advance(5000);
  assert.equal(processes[1].signals, []);
});

test('a crash mid-call is reported with its call; the process is respawned; a boot failure of a replacement halts', () => {
  const { actor, processes, exits, bootAll, ref } = run(1);
  bootAll();
  ref('dirty-1')!.send({ type: 'CALL.START', callId: 1, name: 'crash', timeoutMs: 0 });
  processes[0].exit(70);
  assert.equal({ cause: exits[0].cause, callId: exits[0].callId, exitCode: exits[0].exitCode }, { cause: 'exited', callId: 1, exitCode: 70 });
  assert.is(processes.length, 2);
  processes[1].emit({ type: 'MSG.bootFailed', message: 'model file missing' });
  processes[1].exit(4);
  assert.ok(actor.getSnapshot().status === 'done');
  assert.match(actor.getSnapshot().output!.haltReason!, /could not boot \(--dirty-app\): model file missing/);
});

test('scale up and down: surplus processes drain, oldest first, and one busy finishes its call first', () => {
  const { actor, processes, bootAll, ref } = run(2);
  bootAll();
  actor.send({ type: 'SCALE', workers: 3 });
  assert.is(processes.length, 3);
  bootAll();
  ref('dirty-1')!.send({ type: 'CALL.START', callId: 1, name: 'slow', timeoutMs: 0 });
  actor.send({ type: 'SCALE', workers: 1 });
  assert.equal(processes[0].signals, [], 'busy: not signalled before its call ends');
  assert.equal(processes[1].signals, ['SIGTERM']);
  assert.equal(callableIds(actor.getSnapshot().context), ['dirty-3']);
  ref('dirty-1')!.send({ type: 'CALL.END', callId: 1 });
  assert.equal(processes[0].signals, ['SIGTERM']);
  actor.send({ type: 'SCALE', workers: 0 });
  assert.is(actor.getSnapshot().context.workers, 1, 'fewer than one is refused');
});

test('RELOAD rolls: each new process is ready before an old one drains, so some process can always take a call', () => {
  const { actor, processes, finished, bootAll, live } = run(2);
  bootAll();
  actor.send({ type: 'RELOAD', workers: 2 });
  assert.is(processes.length, 3);
  assert.is(callableIds(actor.getSnapshot().context).length, 2, 'old ones serve while the new one boots');
  processes[2].emit({ type: 'MSG.ready' });
  assert.equal(processes[0].signals, ['SIGTERM']);
  assert.is(processes.length, 4);
  assert.ok(callableIds(actor.getSnapshot().context).length >= 1);
  processes[0].exit(0);
  processes[3].emit({ type: 'MSG.ready' });
  assert.equal(processes[1].signals, ['SIGTERM']);
  processes[1].exit(0);
  assert.ok(actor.getSnapshot().matches({ serving: 'steady' }));
  assert.equal(finished, [{ ok: true }]);
  assert.equal(live().map((p) => p.id), ['dirty-3', 'dirty-4']);
});

test('a RELOAD while booting is kept: the pool reloads once it serves', () => {
  const { actor, processes, finished, bootAll } = run(1);
  actor.send({ type: 'RELOAD', workers: 1 });
  assert.is(processes.length, 1);
  bootAll();
  assert.ok(actor.getSnapshot().matches({ serving: 'reloading' }));
  assert.is(processes.length, 2, 'a process of the new generation boots');
  processes[1].emit({ type: 'MSG.ready' });
  assert.equal(processes[0].signals, ['SIGTERM']);
  processes[0].exit(0);
  assert.equal(finished, [{ ok: true }]);
  assert.is(actor.getSnapshot().context.generation, 2);
});

test('a reload whose new process cannot boot leaves the old ones serving', () => {
  const { actor, processes, finished, bootAll } = run(1);
  bootAll();
  actor.send({ type: 'RELOAD', workers: 1 });
  processes[1].emit({ type: 'MSG.bootFailed', message: 'SyntaxError' });
  processes[1].exit(4);
  assert.ok(actor.getSnapshot().matches({ serving: 'steady' }));
  assert.equal(finished, [{ ok: false, reason: 'a new dirty process could not boot' }]);
  assert.equal(callableIds(actor.getSnapshot().context), ['dirty-1']);
  assert.equal(processes[0].signals, []);
});

test('STOP drains every process (TERM; a busy one after its call); a hung one is killed past the graceful timeout; then dead', () => {
  const { actor, advance, processes, bootAll, ref } = run(2);
  bootAll();
  ref('dirty-2')!.send({ type: 'CALL.START', callId: 1, name: 'slow', timeoutMs: 0 });
  actor.send({ type: 'STOP' });
  assert.equal(processes[0].signals, ['SIGTERM']);
  assert.equal(processes[1].signals, []);
  processes[0].exit(0);
  ref('dirty-2')!.send({ type: 'CALL.END', callId: 1 });
  assert.equal(processes[1].signals, ['SIGTERM']);
  advance(31_000);
  assert.equal(processes[1].signals, ['SIGTERM', 'SIGKILL']);
  processes[1].exit(null, 'SIGKILL');
  assert.is(actor.getSnapshot().status, 'done');
  assert.is(actor.getSnapshot().output!.haltReason, undefined);
});

test('STOP quick: QUIT to every process at once, even a busy one', () => {
  const { actor, processes, bootAll, ref } = run(2);
  bootAll();
  ref('dirty-1')!.send({ type: 'CALL.START', callId: 1, name: 'slow', timeoutMs: 0 });
  actor.send({ type: 'STOP', quick: true });
  assert.equal(processes.map((p) => p.signals), [['SIGQUIT'], ['SIGQUIT']]);
});

test('dirty processes that die right after booting are respawned after a growing back-off, not in a tight loop; one that settles ends it', () => {
  const { actor, advance, processes, logs, live, bootAll } = run(1);
  bootAll();
  const crashNewest = () => {
    const newest = live().at(-1)!;
    newest.emit({ type: 'MSG.ready' });
    newest.exit(1);
  };
  crashNewest();
  assert.is(processes.length, 2, 'the first early death is replaced at once');
  crashNewest();
  assert.ok(actor.getSnapshot().matches({ serving: 'backingOff' }));
  assert.is(processes.length, 2, 'the second waits for the back-off');
  assert.ok(logs.some((line) => /error: Dirty processes keep dying right after booting \(2 in a row\); next start in 1 s/.test(line)), logs.join('\n'));
  advance(999);
  assert.is(processes.length, 2);
  advance(1);
  assert.is(processes.length, 3, 'respawned once the back-off ends');
  crashNewest();
  assert.ok(logs.some((line) => /\(3 in a row\); next start in 2 s/.test(line)), 'the back-off grows');
  advance(2000);
  assert.is(processes.length, 4);
  // This one settles: the streak is over, and a later death is replaced at once.
  live().at(-1)!.emit({ type: 'MSG.ready' });
  advance(5000);
  assert.is(actor.getSnapshot().context.crashStreak, 0);
  live().at(-1)!.exit(1);
  assert.is(processes.length, 5);
  assert.ok(actor.getSnapshot().matches({ serving: 'steady' }));
});

test.run();
