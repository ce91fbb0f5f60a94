// The arbiter's mirror of one dirty process (--dirty-app): it boots, serves one
// call at a time, and is replaced when a call runs past its deadline. The process
// itself is the invoked `dirtyProcess` actor, supplied from src/.
import { and, assign, fromCallback, sendParent, sendTo, setup } from 'xstate';
import type { LogLevel } from './worker-handle.js';

export interface DirtyProcessInput {
  id: string;
  /** Loading the module and its setup() may take this long. 0: no limit. */
  bootTimeoutMs: number;
  /** A retiring process may finish its call for this long before it is killed. */
  gracefulTimeoutMs: number;
  /** Between SIGQUIT and SIGKILL. */
  killDelayMs: number;
  /** Serving this long, its death is no longer part of a crash loop. */
  settleMs: number;
}

export type DirtyExitCause =
  | 'exited' // it died by itself: a crash, process.exit() in the module, out of memory
  | 'stopped' // it was told to leave, and did
  | 'callTimeout' // a call ran past its deadline: the process was killed to free it
  | 'bootTimeout' // the module or its setup() took longer than the boot timeout
  | 'bootFailed' // the module could not be loaded, or its setup() threw
  | 'protocol'; // it sent a frame that could not be read

export interface DirtyExit {
  id: string;
  pid: number | undefined;
  exitCode: number | null;
  signal: string | null;
  cause: DirtyExitCause;
  bootError: string | undefined;
  /** The call running when it died, if any. */
  callId: number | undefined;
  /** It served for the settle time: its death is not part of a crash loop. */
  established: boolean;
}

export type DirtyProcessEvent =
  | { type: 'PROCESS.SPAWNED'; pid: number }
  | { type: 'PROCESS.EXITED'; exitCode: number | null; signal: string | null }
  | { type: 'PROCESS.PROTOCOL_ERROR'; message: string }
  | { type: 'MSG.ready' }
  | { type: 'MSG.bootFailed'; message: string }
  /**
   * The router hands it a call: it must answer within `timeoutMs` (0: no limit), what is left of
   * the call's whole deadline `limitMs` (the time it waited in the queue counts).
   */
  | { type: 'CALL.START'; callId: number; name: string; timeoutMs: number; limitMs?: number }
  /** The call's answer came (a result, an error, or a stream's end). */
  | { type: 'CALL.END'; callId: number }
  | { type: 'DRAIN' }
  | { type: 'STOP' };

export type DirtyProcessCommand = { type: 'SIGNAL'; signal: 'SIGTERM' | 'SIGQUIT' | 'SIGKILL' };

export interface DirtyProcessContext extends DirtyProcessInput {
  pid: number | undefined;
  cause: DirtyExitCause;
  bootError: string | undefined;
  exitCode: number | null;
  signal: string | null;
  call: { id: number; name: string; timeoutMs: number; limitMs: number } | undefined;
  /** Told to leave while busy: it drains once its call is answered. */
  retireAfterCall: boolean;
  established: boolean;
}

const exitOf = (context: DirtyProcessContext): DirtyExit => ({
  id: context.id,
  pid: context.pid,
  exitCode: context.exitCode,
  signal: context.signal,
  cause: context.cause,
  bootError: context.bootError,
  callId: context.call?.id,
  established: context.established,
});

const setCause = (cause: DirtyExitCause) => ({ type: 'setCause', params: { cause } }) as const;

const logProtocolError = {
  type: 'log',
  params: ({ context, event }: { context: DirtyProcessContext; event: DirtyProcessEvent }) => ({
    level: 'error' as const,
    message: `Dirty process (pid:${context.pid}) broke the IPC protocol: ${event.type === 'PROCESS.PROTOCOL_ERROR' ? event.message : event.type}. Replacing it.`,
  }),
} as const;

export const dirtyProcessMachine = setup({
  types: {
    input: {} as DirtyProcessInput,
    context: {} as DirtyProcessContext,
    events: {} as DirtyProcessEvent,
    output: {} as DirtyExit,
  },
  actors: {
    // Supplied from src/: spawns the process and turns its life into PROCESS.* / MSG.* events.
    dirtyProcess: fromCallback<DirtyProcessCommand, { id: string }>(() => {}),
  },
  actions: {
    log: (_, _params: { level: LogLevel; message: string }) => {},
    signal: sendTo('process', (_, params: { signal: DirtyProcessCommand['signal'] }) => ({ type: 'SIGNAL' as const, signal: params.signal })),
    recordPid: assign({ pid: ({ event }) => (event.type === 'PROCESS.SPAWNED' ? event.pid : undefined) }),
    recordExit: assign(({ event }) => (event.type === 'PROCESS.EXITED' ? { exitCode: event.exitCode, signal: event.signal } : {})),
    recordBootError: assign(({ event }) => (event.type === 'MSG.bootFailed' ? { bootError: event.message, cause: 'bootFailed' as const } : {})),
    setCause: assign((_, params: { cause: DirtyExitCause }) => ({ cause: params.cause })),
    startCall: assign(({ event }) => (event.type === 'CALL.START' ? { call: { id: event.callId, name: event.name, timeoutMs: event.timeoutMs, limitMs: event.limitMs ?? event.timeoutMs } } : {})),
    endCall: assign({ call: undefined }),
    markRetireAfterCall: assign({ retireAfterCall: true }),
    reportReady: sendParent(({ context }) => ({ type: 'DIRTY.READY' as const, id: context.id })),
    reportIdle: sendParent(({ context }) => ({ type: 'DIRTY.IDLE' as const, id: context.id })),
    markEstablished: assign({ established: true }),
    reportSettled: sendParent(({ context }) => ({ type: 'DIRTY.SETTLED' as const, id: context.id })),
    reportExit: sendParent(({ context }) => ({ type: 'DIRTY.EXITED' as const, exit: exitOf(context) })),
  },
  delays: {
    bootTimeout: ({ context }) => context.bootTimeoutMs,
    callDeadline: ({ context }) => context.call?.timeoutMs ?? 0,
    gracefulDeadline: ({ context }) => context.gracefulTimeoutMs + context.killDelayMs,
    killDelay: ({ context }) => context.killDelayMs,
    settle: ({ context }) => context.settleMs,
  },
  guards: {
    hasBootTimeout: ({ context }) => context.bootTimeoutMs > 0,
    hasCallDeadline: ({ context }) => (context.call?.timeoutMs ?? 0) > 0,
    isThisCall: ({ context, event }) => event.type === 'CALL.END' && event.callId === context.call?.id,
    retiresAfterCall: ({ context }) => context.retireAfterCall,
  },
}).createMachine({
  id: 'dirtyProcess',
  context: ({ input }) => ({
    ...input,
    pid: undefined,
    cause: 'exited',
    bootError: undefined,
    exitCode: null,
    signal: null,
    call: undefined,
    retireAfterCall: false,
    established: false,
  }),
  invoke: { id: 'process', src: 'dirtyProcess', input: ({ context }) => ({ id: context.id }) },
  initial: 'booting',
  on: {
    'PROCESS.SPAWNED': { actions: 'recordPid' },
    'PROCESS.EXITED': { target: '.dead', actions: 'recordExit' },
    'MSG.bootFailed': { actions: 'recordBootError' },
  },
  states: {
    booting: {
      after: { bootTimeout: { guard: 'hasBootTimeout', target: 'draining.killing', actions: setCause('bootTimeout') } },
      on: {
        'MSG.ready': 'serving',
        'PROCESS.PROTOCOL_ERROR': { target: 'draining.killing', actions: [setCause('protocol'), logProtocolError] },
        DRAIN: { target: 'draining.graceful', actions: setCause('stopped') },
        STOP: { target: 'draining.quick', actions: setCause('stopped') },
      },
    },
    serving: {
      entry: 'reportReady',
      after: { settle: { actions: ['markEstablished', 'reportSettled'] } },
      initial: 'idle',
      states: {
        idle: {
          on: {
            'CALL.START': { target: 'busy', actions: 'startCall' },
            DRAIN: { target: '#dirtyProcess.draining.graceful', actions: setCause('stopped') },
          },
        },
        busy: {
          after: {
            // The chart's decision: a call past its deadline costs the process that runs it.
            callDeadline: {
              guard: 'hasCallDeadline',
              target: '#dirtyProcess.draining.killing',
              actions: [
                setCause('callTimeout'),
                {
                  type: 'log',
                  params: ({ context }) => ({
                    level: 'error',
                    message: `DIRTY CALL TIMEOUT: '${context.call?.name}' ran past ${context.call?.limitMs} ms (pid:${context.pid}); replacing the process`,
                  }),
                },
              ],
            },
          },
          on: {
            'CALL.END': [
              { guard: and(['isThisCall', 'retiresAfterCall']), target: '#dirtyProcess.draining.graceful', actions: ['endCall', setCause('stopped')] },
              { guard: 'isThisCall', target: 'idle', actions: ['endCall', 'reportIdle'] },
            ],
            // Its call still runs: it leaves once that is answered (or past its deadline).
            DRAIN: { actions: 'markRetireAfterCall' },
          },
        },
      },
      on: {
        'PROCESS.PROTOCOL_ERROR': { target: 'draining.killing', actions: [setCause('protocol'), logProtocolError] },
        STOP: { target: 'draining.quick', actions: setCause('stopped') },
      },
    },
    draining: {
      initial: 'graceful',
      on: { 'PROCESS.PROTOCOL_ERROR': { actions: logProtocolError } },
      states: {
        // Idle and asked to leave (TERM): it exits at once; killed if it is still there past the graceful timeout.
        graceful: {
          entry: { type: 'signal', params: { signal: 'SIGTERM' } },
          after: { gracefulDeadline: 'killing' },
          on: { STOP: 'quick' },
        },
        quick: {
          entry: { type: 'signal', params: { signal: 'SIGQUIT' } },
          after: { killDelay: 'killing' },
        },
        killing: {
          entry: { type: 'signal', params: { signal: 'SIGKILL' } },
        },
      },
    },
    dead: { type: 'final', entry: 'reportExit' },
  },
  output: ({ context }) => exitOf(context),
});

