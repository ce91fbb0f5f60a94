// One worker process: load the app, start the configured kind on the
// inherited listeners, heartbeat while alive, drain when told. The kind is an
// actor (`kind`) and the app loader a promise actor (`loadApp`), both from src/.
import { assign, fromCallback, fromPromise, sendTo, setup, spawnChild } from 'xstate';

export interface WorkerInput {
  heartbeatMs: number;
  gracefulTimeoutMs: number;
}

/** What the worker machine tells its kind. */
export type KindCommand = { type: 'DRAIN' };

/** What a kind reports back. */
export type KindReport =
  | { type: 'KIND.LISTENING' }
  | { type: 'KIND.DRAINED' }
  | { type: 'KIND.FAILED'; message: string };

export type WorkerEvent =
  | KindReport
  | { type: 'DRAIN' } // graceful: finish in-flight requests, then exit
  | { type: 'STOP' } // quick: exit now
  | { type: 'ARBITER.GONE' } // the IPC pipe closed under us
  | { type: 'CRASHED'; message: string }; // an uncaught error: finish what we can, then exit non-zero

export interface WorkerContext extends WorkerInput {
  app: unknown;
  exitCode: number;
  failure: { code: number; message: string } | undefined;
}

export interface WorkerOutput {
  exitCode: number;
  failure: { code: number; message: string } | undefined;
}

export const EXIT_OK = 0;
export const EXIT_CRASHED = 1;
export const EXIT_BOOT_ERROR = 3;
export const EXIT_APP_LOAD_ERROR = 4;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

// Heartbeats run in every state where the worker is alive and its loop turns.
const heartbeating = {
  initial: 'pulse',
  states: {
    pulse: { after: { heartbeat: { target: 'pulse', reenter: true, actions: 'sendHeartbeat' } } },
  },
} as const;

export const workerMachine = setup({
  types: {
    input: {} as WorkerInput,
    context: {} as WorkerContext,
    events: {} as WorkerEvent,
    output: {} as WorkerOutput,
  },
  actors: {
    loadApp: fromPromise<unknown>(async () => undefined),
    kind: fromCallback<KindCommand, { app: unknown }>(() => {}),
  },
  actions: {
    reportBooted: () => {},
    reportReady: () => {},
    reportBootFailure: (_, _params: { code: number; message: string }) => {},
    sendHeartbeat: () => {},
    drainKind: sendTo('kind', { type: 'DRAIN' }),
    fail: assign((_, params: { code: number; message: string }) => ({ exitCode: params.code, failure: params })),
  },
  delays: {
    heartbeat: ({ context }) => context.heartbeatMs,
    gracefulTimeout: ({ context }) => context.gracefulTimeoutMs,
  },
}).createMachine({
  id: 'worker',
  context: ({ input }) => ({ ...input, app: undefined, exitCode: EXIT_OK, failure: undefined }),
  initial: 'booting',
  on: {
    STOP: '.dead',
    'ARBITER.GONE': '.dead',
  },
  states: {
    booting: {
      initial: 'loadingApp',
      on: { DRAIN: 'dead' },
      states: {
        loadingApp: {
          invoke: {
            src: 'loadApp',
            onDone: { target: 'startingKind', actions: [assign({ app: ({ event }) => event.output }), 'reportBooted'] },
            onError: {
              target: '#worker.dead',
              actions: [
                { type: 'fail', params: ({ event }) => ({ code: EXIT_APP_LOAD_ERROR, message: errorMessage(event.error) }) },
                { type: 'reportBootFailure', params: ({ event }) => ({ code: EXIT_APP_LOAD_ERROR, message: errorMessage(event.error) }) },
              ],
            },
          },
        },
        startingKind: {
          entry: spawnChild('kind', { id: 'kind', input: ({ context }) => ({ app: context.app }) }),
          on: {
            'KIND.LISTENING': '#worker.serving',
            'KIND.FAILED': {
              target: '#worker.dead',
              actions: [
                { type: 'fail', params: ({ event }) => ({ code: EXIT_BOOT_ERROR, message: event.message }) },
                { type: 'reportBootFailure', params: ({ event }) => ({ code: EXIT_BOOT_ERROR, message: event.message }) },
              ],
            },
          },
        },
      },
    },
    serving: {
      entry: 'reportReady',
      ...heartbeating,
      on: {
        DRAIN: 'draining',
        CRASHED: {
          target: 'draining',
          actions: { type: 'fail', params: ({ event }) => ({ code: EXIT_CRASHED, message: event.message }) },
        },
        'KIND.FAILED': {
          target: 'dead',
          actions: { type: 'fail', params: ({ event }) => ({ code: EXIT_CRASHED, message: event.message }) },
        },
      },
    },
    draining: {
      entry: 'drainKind',
      ...heartbeating,
      // Past the deadline the remaining connections are cut: the kind is stopped with the machine.
      after: { gracefulTimeout: 'dead' },
      on: { 'KIND.DRAINED': 'dead', DRAIN: {} },
    },
    dead: { type: 'final' },
  },
  output: ({ context }) => ({ exitCode: context.exitCode, failure: context.failure }),
});
