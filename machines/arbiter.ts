// The arbiter: owns the listeners, keeps `workers` worker handles alive,
// and turns signals into a graceful or quick shutdown. Effects (binding
// sockets, closing them, logging) are named here and supplied from src/.
import { type ActorRefFrom, assign, fromPromise, setup } from 'xstate';
import { type LogLevel, type WorkerExit, workerHandleMachine } from './worker-handle.js';

export interface ArbiterInput {
  workers: number;
  timeoutMs: number;
  gracefulTimeoutMs: number;
  killDelayMs: number;
}

export type ShutdownSignal = 'SIGTERM' | 'SIGINT' | 'SIGQUIT';
/** Signals the arbiter acts on: the shutdowns, and USR1 to reopen log files. */
export type ArbiterSignal = ShutdownSignal | 'SIGUSR1';

export type ArbiterEvent =
  | { type: 'SIGNAL'; signal: ArbiterSignal }
  | { type: 'WORKER.READY'; id: string; pid: number | undefined }
  | { type: 'WORKER.EXITED'; exit: WorkerExit };

type WorkerRef = ActorRefFrom<typeof workerHandleMachine>;

export interface ArbiterContext extends ArbiterInput {
  /** Listening addresses, as URLs, once bound. */
  listeners: string[];
  workerRefs: Record<string, WorkerRef>;
  ready: Record<string, boolean>;
  spawned: number;
  announcedReady: boolean;
  stopMode: 'graceful' | 'quick';
  exitCode: number;
  haltReason: string | undefined;
}

export interface ArbiterOutput {
  exitCode: number;
  haltReason: string | undefined;
}

/** Exit codes a worker uses to say it cannot boot: retrying would only loop. */
export const WORKER_BOOT_ERROR = 3;
export const WORKER_APP_LOAD_ERROR = 4;

const isBootFailure = (exit: WorkerExit) =>
  exit.bootError !== undefined || exit.exitCode === WORKER_BOOT_ERROR || exit.exitCode === WORKER_APP_LOAD_ERROR;

/** One log line for a worker that is gone, in gunicorn's words where it has them. */
export function describeExit(exit: WorkerExit): { level: LogLevel; message: string } {
  const who = `Worker (pid:${exit.pid ?? '?'})`;
  // The arbiter ended it on purpose (stop, timeout, broken pipe): the reason was logged then.
  const onPurpose = exit.cause !== 'exited' && exit.cause !== 'bootFailed';
  if (exit.signal === 'SIGKILL' && !onPurpose) return { level: 'error', message: `${who} was sent SIGKILL! Perhaps out of memory?` };
  if (onPurpose) return { level: 'info', message: `${who} exited` };
  if (exit.signal) return { level: 'error', message: `${who} was terminated by ${exit.signal}` };
  if (exit.exitCode !== 0) return { level: 'error', message: `${who} exited with code ${exit.exitCode}` };
  return { level: 'warning', message: `${who} exited unexpectedly` };
}

const logExit = {
  type: 'log',
  params: ({ event }: { event: ArbiterEvent }) =>
    event.type === 'WORKER.EXITED' ? describeExit(event.exit) : { level: 'debug' as const, message: event.type },
} as const;

const workerExited = {
  type: 'workerExited',
  params: ({ event }: { event: ArbiterEvent }) => (event as Extract<ArbiterEvent, { type: 'WORKER.EXITED' }>).exit,
} as const;

const logSignal = {
  type: 'log',
  params: ({ event }: { event: ArbiterEvent }) => ({
    level: 'info' as const,
    message: `Handling signal: ${event.type === 'SIGNAL' ? event.signal.replace(/^SIG/, '').toLowerCase() : '?'}`,
  }),
} as const;

export const arbiterMachine = setup({
  types: {
    input: {} as ArbiterInput,
    context: {} as ArbiterContext,
    events: {} as ArbiterEvent,
    output: {} as ArbiterOutput,
  },
  actors: {
    // Supplied from src/: bind every configured address; resolves to their URLs.
    bindListeners: fromPromise<string[]>(async () => []),
    workerHandle: workerHandleMachine,
  },
  actions: {
    log: (_, _params: { level: LogLevel; message: string }) => {},
    closeListeners: () => {},
    // Hooks for src/: the first generation is all ready; a worker is gone (after logging).
    announceReady: () => {},
    workerExited: (_, _exit: WorkerExit) => {},
    reopenOwnLogs: () => {},
    // Each worker reopens its own log files too.
    reopenWorkerLogs: ({ context }) => {
      for (const ref of Object.values(context.workerRefs)) ref.send({ type: 'REOPEN_LOGS' });
    },
    // Sends each worker DRAIN (graceful) or STOP (quick), whichever the stop mode says.
    stopWorkers: ({ context }) => {
      const type = context.stopMode === 'graceful' ? 'DRAIN' : 'STOP';
      for (const ref of Object.values(context.workerRefs)) ref.send({ type });
    },
    spawnWorkers: assign(({ context, spawn }) => {
      const workerRefs = { ...context.workerRefs };
      let spawned = context.spawned;
      while (Object.keys(workerRefs).length < context.workers) {
        spawned += 1;
        const id = `worker-${spawned}`;
        workerRefs[id] = spawn('workerHandle', {
          id,
          input: {
            id,
            timeoutMs: context.timeoutMs,
            gracefulTimeoutMs: context.gracefulTimeoutMs,
            killDelayMs: context.killDelayMs,
          },
        });
      }
      return { workerRefs, spawned };
    }),
    forgetWorker: assign(({ context, event }) => {
      if (event.type !== 'WORKER.EXITED') return {};
      const { [event.exit.id]: _gone, ...workerRefs } = context.workerRefs;
      const { [event.exit.id]: _wasReady, ...ready } = context.ready;
      return { workerRefs, ready };
    }),
    markReady: assign({
      ready: ({ context, event }) => (event.type === 'WORKER.READY' ? { ...context.ready, [event.id]: true } : context.ready),
    }),
    markAnnounced: assign({ announcedReady: true }),
    halt: assign(({ event }) => {
      if (event.type !== 'WORKER.EXITED') return {};
      const code = event.exit.bootError?.code ?? event.exit.exitCode ?? WORKER_BOOT_ERROR;
      const reason = code === WORKER_APP_LOAD_ERROR ? 'App failed to load.' : 'Worker failed to boot.';
      const detail = event.exit.bootError?.message;
      return { exitCode: code, stopMode: 'quick' as const, haltReason: detail ? `${reason} ${detail}` : reason };
    }),
    setStopMode: assign({
      stopMode: ({ event }) => (event.type === 'SIGNAL' && event.signal === 'SIGTERM' ? 'graceful' : 'quick'),
    }),
  },
  guards: {
    completesFirstReady: ({ context, event }) =>
      !context.announcedReady &&
      event.type === 'WORKER.READY' &&
      Object.keys({ ...context.ready, [event.id]: true }).length >= context.workers,
    isBootFailure: ({ event }) => event.type === 'WORKER.EXITED' && isBootFailure(event.exit),
    noWorkersLeft: ({ context }) => Object.keys(context.workerRefs).length === 0,
    isQuickSignal: ({ event }) => event.type === 'SIGNAL' && (event.signal === 'SIGINT' || event.signal === 'SIGQUIT'),
    isReopenSignal: ({ event }) => event.type === 'SIGNAL' && event.signal === 'SIGUSR1',
  },
}).createMachine({
  id: 'arbiter',
  context: ({ input }) => ({
    ...input,
    listeners: [],
    workerRefs: {},
    ready: {},
    spawned: 0,
    announcedReady: false,
    stopMode: 'graceful',
    exitCode: 0,
    haltReason: undefined,
  }),
  initial: 'booting',
  states: {
    booting: {
      invoke: {
        src: 'bindListeners',
        onDone: { target: 'serving', actions: assign({ listeners: ({ event }) => event.output }) },
        onError: {
          target: 'dead',
          actions: [
            assign({ exitCode: 1, haltReason: ({ event }) => (event.error instanceof Error ? event.error.message : String(event.error)) }),
          ],
        },
      },
      on: { SIGNAL: { target: 'dead', actions: logSignal } },
    },
    serving: {
      entry: 'spawnWorkers',
      initial: 'steady',
      states: { steady: {} },
      on: {
        'WORKER.READY': [
          {
            guard: 'completesFirstReady',
            actions: [
              'markReady',
              'markAnnounced',
              { type: 'log', params: ({ context }) => ({ level: 'info', message: `Ready: ${context.workers} worker(s) serving` }) },
              'announceReady',
            ],
          },
          { actions: 'markReady' },
        ],
        'WORKER.EXITED': [
          { guard: 'isBootFailure', target: 'draining', actions: ['forgetWorker', 'halt', workerExited] },
          { actions: ['forgetWorker', logExit, workerExited, 'spawnWorkers'] },
        ],
        SIGNAL: [
          { guard: 'isReopenSignal', actions: [logSignal, 'reopenOwnLogs', 'reopenWorkerLogs'] },
          { target: 'draining', actions: [logSignal, 'setStopMode'] },
        ],
      },
    },
    draining: {
      entry: ['closeListeners', 'stopWorkers'],
      always: { guard: 'noWorkersLeft', target: 'dead' },
      on: {
        'WORKER.EXITED': { actions: ['forgetWorker', logExit, workerExited] },
        SIGNAL: [
          { guard: 'isReopenSignal', actions: [logSignal, 'reopenOwnLogs', 'reopenWorkerLogs'] },
          // A second, quick signal during a graceful stop hurries it along.
          { guard: 'isQuickSignal', actions: [logSignal, 'setStopMode', 'stopWorkers'] },
        ],
      },
    },
    dead: { type: 'final' },
  },
  output: ({ context }) => ({ exitCode: context.exitCode, haltReason: context.haltReason }),
});
