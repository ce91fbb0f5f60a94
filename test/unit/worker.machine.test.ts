// The worker statechart with a fake app loader and a fake kind, on a simulated clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, fromPromise } from 'xstate';
import { type KindReport, guardEffects, workerMachine } from '../../machines/worker.js';
import { simulatedClock } from '../helpers/fake-clock.js';
import { settle } from '../helpers/fake-processes.js';

const HEARTBEAT = 1000;
const GRACEFUL = 5000;

interface FakeOptions {
  loadApp?: () => Promise<unknown>;
  kindStarts?: boolean;
  /** Thrown by the kind's actor as it starts, or when told to drain. */
  kindThrows?: 'at start' | 'on DRAIN';
  /** Thrown by every heartbeat, as process.memoryUsage.rss() does under EMFILE. */
  heartbeatThrows?: Error;
}

function startWorker({ loadApp = async () => 'app' as unknown, kindStarts = true, kindThrows, heartbeatThrows }: FakeOptions = {}) {
  const reports: string[] = [];
  const kindCommands: string[] = [];
  let kindSendBack: ((report: KindReport) => void) | undefined;
  let kindStopped = false;
  const { clock, advance } = simulatedClock();
  const machine = workerMachine.provide({
    actors: {
      loadApp: fromPromise(loadApp),
      kind: fromCallback(({ sendBack, receive }) => {
        kindSendBack = sendBack;
        if (kindThrows === 'at start') throw new Error('listen EMFILE');
        sendBack(kindStarts ? { type: 'KIND.LISTENING' } : { type: 'KIND.FAILED', message: 'EADDRINUSE' });
        receive((command) => {
          kindCommands.push(command.type);
          if (kindThrows === 'on DRAIN') throw new Error('close EBADF');
        });
        return () => (kindStopped = true);
      }),
    },
    actions: guardEffects({
      reportBooted: () => reports.push('booted'),
      reportReady: () => reports.push('ready'),
      reportBootFailure: (_, failure: { code: number; message: string }) => reports.push(`bootFailed ${failure.code}: ${failure.message}`),
      sendHeartbeat: () => {
        reports.push('heartbeat');
        if (heartbeatThrows) throw heartbeatThrows;
      },
      reportEffectFailure: (_, failure: { effect: string; message: string }) => reports.push(`failed ${failure.effect}: ${failure.message}`),
      reportAborted: () => reports.push('aborted'),
    }),
  });
  const actor = createActor(machine, { clock, input: { heartbeatMs: HEARTBEAT, gracefulTimeoutMs: GRACEFUL } }).start();
  return { actor, reports, kindCommands, advance, kind: (report: KindReport) => kindSendBack!(report), kindStopped: () => kindStopped };
}

test('boots: loads the app, starts the kind, reports booted then ready, heartbeats on the interval', async () => {
  const { actor, reports, advance } = startWorker();
  await settle();
  assert.is(actor.getSnapshot().value && JSON.stringify(actor.getSnapshot().value), '{"serving":"pulse"}');
  assert.equal(reports, ['booted', 'ready']);
  for (let beat = 0; beat < 3; beat += 1) advance(HEARTBEAT);
  assert.equal(reports, ['booted', 'ready', 'heartbeat', 'heartbeat', 'heartbeat']);
});

test('an app that fails to load ends the worker with exit 4 and says why', async () => {
  const { actor, reports } = startWorker({
    loadApp: async () => {
      throw new Error("Cannot find app module 'nope'");
    },
  });
  await settle();
  assert.equal(actor.getSnapshot().output, { exitCode: 4, failure: { code: 4, message: "Cannot find app module 'nope'" } });
  assert.equal(reports, ["bootFailed 4: Cannot find app module 'nope'"]);
});

test('a kind that cannot start ends the worker with exit 3', async () => {
  const { actor } = startWorker({ kindStarts: false });
  await settle();
  assert.is(actor.getSnapshot().output?.exitCode, 3);
});

test('DRAIN asks the kind to drain and ends when it has', async () => {
  const { actor, kindCommands, kind, advance, reports } = startWorker();
  await settle();
  actor.send({ type: 'DRAIN' });
  assert.equal(kindCommands, ['DRAIN']);
  advance(HEARTBEAT);
  assert.ok(reports.includes('heartbeat'), 'still heartbeats while draining');
  kind({ type: 'KIND.DRAINED' });
  assert.equal(actor.getSnapshot().output, { exitCode: 0, failure: undefined });
});

test('a drain that outlasts the graceful timeout is cut short and the kind stopped', async () => {
  const { actor, advance, kindStopped } = startWorker();
  await settle();
  actor.send({ type: 'DRAIN' });
  advance(GRACEFUL - 1);
  assert.is(actor.getSnapshot().status, 'active');
  advance(1);
  assert.is(actor.getSnapshot().status, 'done');
  assert.ok(kindStopped());
});

test('losing the arbiter, or a quick STOP, ends the worker at once', async () => {
  for (const type of ['ARBITER.GONE', 'STOP'] as const) {
    const { actor, kindStopped } = startWorker();
    await settle();
    actor.send({ type });
    assert.is(actor.getSnapshot().status, 'done', type);
    assert.ok(kindStopped(), type);
  }
});

test('SIGABRT (no heartbeat within the timeout) is a chart event: said, then the worker ends with exit 1', async () => {
  for (const at of ['booting', 'serving', 'draining'] as const) {
    const { actor, reports, kindStopped } = startWorker({ loadApp: at === 'booting' ? () => new Promise(() => {}) : undefined });
    await settle();
    if (at === 'draining') actor.send({ type: 'DRAIN' });
    actor.send({ type: 'ABORTED' });
    assert.is(actor.getSnapshot().status, 'done', at);
    assert.is(actor.getSnapshot().output?.exitCode, 1, at);
    assert.ok(reports.includes('aborted'), at);
    if (at !== 'booting') assert.ok(kindStopped(), at);
  }
});

test('an uncaught error drains the worker and exits with 1', async () => {
  const { actor, kindCommands, kind } = startWorker();
  await settle();
  actor.send({ type: 'CRASHED', message: 'boom' });
  assert.equal(kindCommands, ['DRAIN']);
  kind({ type: 'KIND.DRAINED' });
  assert.is(actor.getSnapshot().output?.exitCode, 1);
});

const EMFILE = new Error('EMFILE: too many open files, uv_resident_set_memory');

for (const command of ['DRAIN', 'STOP'] as const) {
  test(`a heartbeat that throws (EMFILE) is reported, the worker keeps beating and still obeys ${command}`, async () => {
    const { actor, reports, advance, kind, kindCommands } = startWorker({ heartbeatThrows: EMFILE });
    await settle();
    advance(HEARTBEAT);
    advance(HEARTBEAT);
    assert.is(actor.getSnapshot().status, 'active');
    assert.equal(reports, ['booted', 'ready', 'heartbeat', `failed sendHeartbeat: ${EMFILE.message}`, 'heartbeat', `failed sendHeartbeat: ${EMFILE.message}`]);
    actor.send({ type: command });
    if (command === 'DRAIN') {
      assert.equal(kindCommands, ['DRAIN']);
      kind({ type: 'KIND.DRAINED' });
    }
    assert.is(actor.getSnapshot().status, 'done');
    assert.equal(actor.getSnapshot().output, { exitCode: 0, failure: undefined });
    assert.not.ok(reports.some((report) => report.startsWith('bootFailed')), 'a booted worker never reports a boot failure');
  });
}

test('a kind that throws as it starts is a boot failure (exit 3), not a dead actor', async () => {
  const { actor, reports } = startWorker({ kindThrows: 'at start' });
  await settle();
  assert.is(actor.getSnapshot().status, 'done');
  assert.equal(actor.getSnapshot().output, { exitCode: 3, failure: { code: 3, message: 'the worker kind failed: listen EMFILE' } });
  assert.equal(reports, ['booted', 'bootFailed 3: the worker kind failed: listen EMFILE']);
});

test('a kind that throws when told to drain ends the worker with exit 1', async () => {
  const { actor } = startWorker({ kindThrows: 'on DRAIN' });
  await settle();
  actor.send({ type: 'DRAIN' });
  await settle();
  assert.is(actor.getSnapshot().status, 'done');
  assert.equal(actor.getSnapshot().output?.exitCode, 1);
});

test.run();
