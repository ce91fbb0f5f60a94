// The pure arbiter chart (with its worker handles) on a simulated clock, with
// every effect at its edge under the test's control: binding and config
// re-reads wait until the test settles them, fake processes play the workers.
import { type AnyActorRef, createActor, fromCallback, fromPromise } from 'xstate';
import { type ArbiterEvent, type ReloadedSettings, arbiterMachine } from '../../machines/arbiter.js';
import { type WorkerProcessCommand, workerHandleMachine } from '../../machines/worker-handle.js';
import { nextTimer, simulatedClock } from './fake-clock.js';
import { type FakeProcess, fakeProcesses, settle } from './fake-processes.js';

export const TIMEOUT = 30_000;
export const GRACEFUL = 30_000;
export const KILL_DELAY = 1000;
export const SETTLE = 5000;

interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

export interface ArbiterHarness {
  actor: ReturnType<typeof createActor<typeof arbiterMachine>>;
  processes: ReturnType<typeof fakeProcesses>;
  logs: string[];
  /** Effects the chart asked for, in order (closeListeners, startUpgrade …). */
  effects: string[];
  exited: Set<string>;
  pendingBind: Pending<string[]>[];
  pendingReload: Pending<ReloadedSettings>[];
  clock: ReturnType<typeof simulatedClock>['clock'];
  /** ms until the earliest timer the chart has scheduled, or undefined if none. */
  nextTimer(): number | undefined;
  send(event: ArbiterEvent): Promise<void>;
  /** Processes the test has not made exit yet. */
  live(): FakeProcess[];
  exit(process: FakeProcess, exitCode: number | null, signal?: string): Promise<void>;
  ready(process: FakeProcess): Promise<void>;
  /** The worker handle actor of a process, if the arbiter still holds it. */
  handleOf(process: FakeProcess): AnyActorRef | undefined;
}

/** The harness whose effects the shared machine is running now (harnesses run one at a time). */
let current: {
  processes: ReturnType<typeof fakeProcesses>;
  logs: string[];
  effects: string[];
  pendingBind: Pending<string[]>[];
  pendingReload: Pending<ReloadedSettings>[];
};

const log = (_: unknown, params: { level: string; message: string }) => current.logs.push(`${params.level}: ${params.message}`);
const effect = (name: string) => () => void current.effects.push(name);
// One machine for every harness: providing implementations anew per run costs more than the run.
const machine = arbiterMachine.provide({
  actors: {
    bindListeners: fromPromise(() => new Promise<string[]>((resolve, reject) => current.pendingBind.push({ resolve, reject }))),
    reloadConfig: fromPromise(() => new Promise<ReloadedSettings>((resolve, reject) => current.pendingReload.push({ resolve, reject }))),
    workerHandle: workerHandleMachine.provide({
      actors: { workerProcess: fromCallback<WorkerProcessCommand, { id: string }>((args) => current.processes.play(args)) },
      actions: { log },
    }),
  },
  actions: { log, closeListeners: effect('closeListeners'), startUpgrade: effect('startUpgrade'), reopenOwnLogs: effect('reopenOwnLogs') },
});

export async function arbiterHarness({ workers = 2, drainDelayMs = 0, maxMemoryBytes = 0 } = {}): Promise<ArbiterHarness> {
  const processes = fakeProcesses();
  const logs: string[] = [];
  const effects: string[] = [];
  const exited = new Set<string>();
  const pendingBind: Pending<string[]>[] = [];
  const pendingReload: Pending<ReloadedSettings>[] = [];
  current = { processes, logs, effects, pendingBind, pendingReload };
  const { clock } = simulatedClock();
  const actor = createActor(machine, {
    clock,
    input: { workers, timeoutMs: TIMEOUT, gracefulTimeoutMs: GRACEFUL, killDelayMs: KILL_DELAY, settleMs: SETTLE, drainDelayMs, maxMemoryBytes },
  });
  actor.start();
  await settle();
  const harness: ArbiterHarness = {
    actor,
    processes,
    logs,
    effects,
    exited,
    pendingBind,
    pendingReload,
    clock,
    nextTimer: () => nextTimer(clock),
    async send(event) {
      actor.send(event);
      await settle();
    },
    live: () => processes.all.filter((process) => !exited.has(process.id)),
    async exit(process, exitCode, signal) {
      exited.add(process.id);
      process.exit(exitCode, signal);
      await settle();
    },
    async ready(process) {
      process.emit({ type: 'MSG.booted' });
      process.emit({ type: 'MSG.ready' });
      await settle();
    },
    handleOf: (process) => actor.getSnapshot().context.workerRefs[process.id] as AnyActorRef | undefined,
  };
  return harness;
}
