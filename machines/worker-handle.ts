// The arbiter's mirror of one worker process: what it last reported, and the
// liveness rules applied to it (boot and heartbeat timeouts, abort, kill).
// The process itself is the invoked `workerProcess` actor, supplied from src/.
import { assign, fromCallback, sendParent, sendTo, setup } from 'xstate';

export interface WorkerHandleInput {
  id: string;
  /** No message for this long (booting or serving) means the worker is hung. 0 disables. */
  timeoutMs: number;
  /** How long a draining worker may take before it is killed. */
  gracefulTimeoutMs: number;
  /** Between SIGABRT/SIGQUIT and SIGKILL. */
  killDelayMs: number;
  /** A worker that dies sooner than this after becoming ready counts toward a crash loop. */
  settleMs: number;
  /** A heartbeat reporting more resident memory than this asks for a replacement (--max-memory). 0: no limit. */
  maxMemoryBytes?: number;
}

/**
 * Request durations a worker has seen, one count per histogram bucket (the
 * last for anything slower than the largest bound), plus their sum. Only
 * reported when the arbiter serves metrics.
 */
export interface RequestDurations {
  counts: number[];
  sumSeconds: number;
}

export interface WorkerStats {
  inFlight: number;
  served: number;
  lagMs: number;
  rss: number;
  /** Requests cut by --request-timeout. */
  timedOut?: number;
  durations?: RequestDurations;
  /** Connections it closed unserved because it could not afford them. */
  dropped?: number;
  /** CPU time the worker process has used since it started (user + system), in microseconds. */
  cpuMicros?: number;
  /** Responses answered with a 4xx (client) and a 5xx (server) status since it started. */
  responses?: ResponseClasses;
}

export interface ResponseClasses {
  client: number;
  server: number;
}

export type ExitCause =
  | 'exited' // it exited by itself
  | 'stopped' // it was asked to stop and did
  | 'timeout' // no heartbeat within the timeout: aborted/killed
  | 'protocol' // it sent a frame that could not be decoded
  | 'bootFailed'; // it reported a boot or app-load failure

export interface WorkerExit {
  id: string;
  pid: number | undefined;
  exitCode: number | null;
  signal: string | null;
  cause: ExitCause;
  /** Set when the worker reported why it could not boot. */
  bootError?: { code: number; message: string };
  /** It served for the settle time: its death is not part of a crash loop. */
  established: boolean;
  /** Its last report, so pool-wide totals keep what it served. */
  stats: WorkerStats;
}

export type WorkerHandleEvent =
  // from the process actor
  | { type: 'PROCESS.SPAWNED'; pid: number }
  | { type: 'PROCESS.EXITED'; exitCode: number | null; signal: string | null }
  | { type: 'PROCESS.PROTOCOL_ERROR'; message: string }
  | { type: 'MSG.booted' }
  | { type: 'MSG.ready' }
  | { type: 'MSG.heartbeat'; stats: WorkerStats }
  | { type: 'MSG.bootFailed'; code: number; message: string }
  /** The worker asks to be replaced (it served its --max-requests). */
  | { type: 'MSG.recycle'; reason: string }
  // from the arbiter
  | { type: 'DRAIN' }
  | { type: 'STOP' }
  | { type: 'REOPEN_LOGS' };

/** What the handle asks of its process actor. */
export type WorkerProcessCommand =
  | { type: 'SIGNAL'; signal: 'SIGTERM' | 'SIGQUIT' | 'SIGABRT' | 'SIGKILL' | 'SIGUSR1' };

/** Why a worker asks to be replaced: it reached --max-requests or --max-memory. */
export type RecycleCause = 'maxRequests' | 'maxMemory';

export interface WorkerHandleContext extends WorkerHandleInput {
  established: boolean;
  /** It has asked the arbiter for a replacement already (asked once). */
  recycleAsked: boolean;
  pid: number | undefined;
  stats: WorkerStats;
  cause: ExitCause;
  bootError: { code: number; message: string } | undefined;
  exitCode: number | null;
  signal: string | null;
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';

const megabytes = (bytes: number) => Math.round(bytes / 1048576);

const logProtocolError = {
  type: 'log',
  params: ({ context, event }: { context: WorkerHandleContext; event: WorkerHandleEvent }) => ({
    level: 'error' as const,
    message: `Worker (pid:${context.pid}) broke the IPC protocol: ${
      event.type === 'PROCESS.PROTOCOL_ERROR' ? event.message : event.type
    }. Replacing it.`,
  }),
} as const;

/** What the arbiter learns of a worker that is gone. */
const exitOf = (context: WorkerHandleContext): WorkerExit => ({
  id: context.id,
  pid: context.pid,
  exitCode: context.exitCode,
  signal: context.signal,
  cause: context.cause,
  bootError: context.bootError,
  established: context.established,
  stats: context.stats,
});

export const workerHandleMachine = setup({
  types: {
    input: {} as WorkerHandleInput,
    context: {} as WorkerHandleContext,
    events: {} as WorkerHandleEvent,
    output: {} as WorkerExit,
  },
  actors: {
    // Supplied from src/: spawns the process and turns its life into PROCESS.* / MSG.* events.
    workerProcess: fromCallback<WorkerProcessCommand, { id: string }>(() => {}),
  },
  actions: {
    log: (_, _params: { level: LogLevel; message: string }) => {},
    signal: sendTo('process', (_, params: { signal: WorkerProcessCommand['signal'] }) => ({
      type: 'SIGNAL' as const,
      signal: params.signal,
    })),
    recordPid: assign({ pid: ({ event }) => (event.type === 'PROCESS.SPAWNED' ? event.pid : undefined) }),
    recordStats: assign({ stats: ({ context, event }) => (event.type === 'MSG.heartbeat' ? event.stats : context.stats) }),
    recordExit: assign(({ event }) =>
      event.type === 'PROCESS.EXITED' ? { exitCode: event.exitCode, signal: event.signal } : {},
    ),
    setCause: assign((_, params: { cause: ExitCause }) => ({ cause: params.cause })),
    recordBootError: assign({
      bootError: ({ event }) => (event.type === 'MSG.bootFailed' ? { code: event.code, message: event.message } : undefined),
      cause: 'bootFailed' as ExitCause,
    }),
    markEstablished: assign({ established: true }),
    reportSettled: sendParent(({ context }) => ({ type: 'WORKER.SETTLED' as const, id: context.id })),
    reportReady: sendParent(({ context }) => ({ type: 'WORKER.READY' as const, id: context.id, pid: context.pid })),
    askToRecycle: sendParent(({ context, event }) => ({
      type: 'WORKER.RECYCLE' as const,
      id: context.id,
      reason: event.type === 'MSG.recycle' ? event.reason : 'asked',
      cause: 'maxRequests' as RecycleCause,
    })),
    askToRecycleForMemory: sendParent(({ context }) => ({
      type: 'WORKER.RECYCLE' as const,
      id: context.id,
      reason: `uses ${megabytes(context.stats.rss)} MB of memory, over --max-memory ${megabytes(context.maxMemoryBytes ?? 0)} MB`,
      cause: 'maxMemory' as RecycleCause,
    })),
    markRecycleAsked: assign({ recycleAsked: true }),
    reportExit: sendParent(({ context }) => ({ type: 'WORKER.EXITED' as const, exit: exitOf(context) })),
  },
  delays: {
    timeout: ({ context }) => context.timeoutMs,
    // The worker cuts what is left at its own graceful timeout and says which requests it cut: it is
    // killed only if it is still there a kill delay later (its event loop blocked).
    gracefulDeadline: ({ context }) => context.gracefulTimeoutMs + context.killDelayMs,
    killDelay: ({ context }) => context.killDelayMs,
    settle: ({ context }) => context.settleMs,
  },
  guards: {
    hasTimeout: ({ context }) => context.timeoutMs > 0,
    overMemory: ({ context, event }) =>
      !context.recycleAsked && (context.maxMemoryBytes ?? 0) > 0 && event.type === 'MSG.heartbeat' && event.stats.rss > context.maxMemoryBytes!,
  },
}).createMachine({
  id: 'workerHandle',
  context: ({ input }) => ({
    ...input,
    pid: undefined,
    stats: { inFlight: 0, served: 0, lagMs: 0, rss: 0 },
    cause: 'exited',
    bootError: undefined,
    established: false,
    recycleAsked: false,
    exitCode: null,
    signal: null,
  }),
  invoke: { id: 'process', src: 'workerProcess', input: ({ context }) => ({ id: context.id }) },
  initial: 'booting',
  on: {
    'PROCESS.SPAWNED': { actions: 'recordPid' },
    'PROCESS.EXITED': { target: '.dead', actions: 'recordExit' },
    'MSG.bootFailed': { actions: 'recordBootError' },
    'MSG.recycle': { actions: ['markRecycleAsked', 'askToRecycle'] },
    // USR1 to the worker: reopen its log files (logrotate).
    REOPEN_LOGS: { actions: { type: 'signal', params: { signal: 'SIGUSR1' } } },
  },
  states: {
    booting: {
      after: { timeout: { guard: 'hasTimeout', target: 'draining.aborting', actions: { type: 'setCause', params: { cause: 'timeout' } } } },
      on: {
        'MSG.booted': { target: 'booting', reenter: true },
        'MSG.ready': 'serving',
        'PROCESS.PROTOCOL_ERROR': { target: 'draining.graceful', actions: [{ type: 'setCause', params: { cause: 'protocol' } }, logProtocolError] },
        DRAIN: { target: 'draining.graceful', actions: { type: 'setCause', params: { cause: 'stopped' } } },
        STOP: { target: 'draining.quick', actions: { type: 'setCause', params: { cause: 'stopped' } } },
      },
    },
    serving: {
      entry: 'reportReady',
      after: { settle: { actions: ['markEstablished', 'reportSettled'] } },
      initial: 'live',
      states: {
        live: {
          // Every heartbeat re-enters `live`, which restarts the timeout.
          after: { timeout: { guard: 'hasTimeout', target: '#workerHandle.draining.aborting', actions: { type: 'setCause', params: { cause: 'timeout' } } } },
          on: {
            'MSG.heartbeat': [
              // Over --max-memory: replaced like --max-requests does it, the new worker ready first.
              { guard: 'overMemory', target: 'live', reenter: true, actions: ['recordStats', 'markRecycleAsked', 'askToRecycleForMemory'] },
              { target: 'live', reenter: true, actions: 'recordStats' },
            ],
          },
        },
      },
      on: {
        'PROCESS.PROTOCOL_ERROR': { target: 'draining.graceful', actions: [{ type: 'setCause', params: { cause: 'protocol' } }, logProtocolError] },
        DRAIN: { target: 'draining.graceful', actions: { type: 'setCause', params: { cause: 'stopped' } } },
        STOP: { target: 'draining.quick', actions: { type: 'setCause', params: { cause: 'stopped' } } },
      },
    },
    draining: {
      initial: 'graceful',
      // Already on its way out: a broken pipe changes nothing but the log.
      on: { 'MSG.heartbeat': { actions: 'recordStats' }, 'PROCESS.PROTOCOL_ERROR': { actions: logProtocolError } },
      states: {
        // Asked to finish in-flight work; killed if it is not gone a kill delay past the graceful timeout.
        graceful: {
          entry: { type: 'signal', params: { signal: 'SIGTERM' } },
          after: { gracefulDeadline: 'killing' },
          on: { STOP: 'quick' },
        },
        quick: {
          entry: { type: 'signal', params: { signal: 'SIGQUIT' } },
          after: { killDelay: 'killing' },
        },
        // Hung: SIGABRT gives it a chance to say so; SIGKILL follows if it cannot.
        aborting: {
          entry: [
            { type: 'log', params: ({ context }) => ({ level: 'critical', message: `WORKER TIMEOUT (pid:${context.pid})` }) },
            { type: 'signal', params: { signal: 'SIGABRT' } },
          ],
          after: { killDelay: 'killing' },
        },
        killing: {
          entry: { type: 'signal', params: { signal: 'SIGKILL' } },
        },
      },
    },
    dead: {
      type: 'final',
      entry: 'reportExit',
    },
  },
  output: ({ context }) => exitOf(context),
});
