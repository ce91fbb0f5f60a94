// The succession chart: one upgrade at a time, and a take-over when the arbiter that started this one exits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback } from 'xstate';
import { type SuccessionEvent, sharesSockets, successionMachine } from '../../machines/succession.js';

function run(predecessorPid?: number) {
  const logs: string[] = [];
  const effects: string[] = [];
  let report: (event: SuccessionEvent) => void = () => {};
  let watching: ((event: SuccessionEvent) => void) | undefined;
  const actor = createActor(
    successionMachine.provide({
      actions: { log: (_, { level, message }) => void logs.push(`${level}: ${message}`), takeOver: () => void effects.push('takeOver') },
      actors: {
        startSuccessor: fromCallback<SuccessionEvent>(({ sendBack }) => {
          effects.push('spawn');
          report = sendBack;
        }),
        watchPredecessor: fromCallback<SuccessionEvent, { pid: number }>(({ input, sendBack }) => {
          effects.push(`watch ${input.pid}`);
          watching = sendBack;
        }),
      },
    }),
    { input: { predecessorPid } },
  ).start();
  return { actor, logs, effects, report: (event: SuccessionEvent) => report(event), predecessorExits: () => watching?.({ type: 'PREDECESSOR.EXITED' }) };
}

test('USR2 starts one new arbiter; a second USR2 while it runs is refused and said; after it exits another may start', () => {
  const { actor, logs, effects, report } = run();
  assert.not.ok(sharesSockets(actor.getSnapshot()));
  actor.send({ type: 'UPGRADE' });
  assert.ok(sharesSockets(actor.getSnapshot()), 'the sockets are shared from the start of the upgrade');
  report({ type: 'SUCCESSOR.STARTED', pid: 4242 });
  actor.send({ type: 'UPGRADE' });
  assert.equal(effects, ['spawn']);
  assert.ok(logs.includes('warning: An upgrade is already running (pid: 4242); ignoring USR2.'), logs.join('\n'));
  report({ type: 'SUCCESSOR.EXITED', exitCode: 0, signal: null });
  assert.ok(logs.includes('info: The upgraded arbiter (pid: 4242) exited (code 0)'), logs.join('\n'));
  assert.not.ok(sharesSockets(actor.getSnapshot()));
  actor.send({ type: 'UPGRADE' });
  assert.equal(effects, ['spawn', 'spawn']);
});

test('a new arbiter that cannot be started is said, and USR2 may be sent again', () => {
  const { actor, logs, effects, report } = run();
  actor.send({ type: 'UPGRADE' });
  report({ type: 'SUCCESSOR.FAILED', message: 'spawn EAGAIN' });
  assert.ok(logs.includes('error: Upgrade failed: cannot start a new arbiter: spawn EAGAIN'));
  actor.send({ type: 'UPGRADE' });
  assert.equal(effects, ['spawn', 'spawn']);
});

test('an arbiter started by an upgrade shares the sockets until the old one exits, then takes over', () => {
  const { actor, logs, effects, predecessorExits } = run(1234);
  assert.equal(effects, ['watch 1234']);
  assert.ok(sharesSockets(actor.getSnapshot()));
  predecessorExits();
  assert.equal(effects, ['watch 1234', 'takeOver']);
  assert.not.ok(sharesSockets(actor.getSnapshot()));
  assert.ok(logs.includes('info: The previous arbiter (pid: 1234) has exited; this one takes over'));
});

test.run();
