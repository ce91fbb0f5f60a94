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
  | { type: 'ABORTED' } // SIGABRT: the arbiter heard no heartbeat within the timeout and is about to kill us
  | { type: 'CRASHED'; message: string } // an uncaught error: finish what we can, then exit non-zero
  | { type: 'EFFECT.FAILED'; effect: string; message: string }; // an effect threw (see guardEffects): logged, the worker carries on

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

/** The effects src/ provides: every one may throw (EMFILE in memoryUsage, a closed pipe…). */
type Effect = (args: { self: { send(event: WorkerEvent): void } }, params: never) => void;

/**
 * Wraps the worker's effects so that one that throws becomes an EFFECT.FAILED
 * event instead of an error in the actor: an XState actor whose action throws
 * stops taking events, and a worker that cannot heartbeat or drain is a worker
 * nobody can stop. The report of a failure is itself guarded, and never re-reported.
 */
export function guardEffects<Effects extends Record<string, Effect>>(effects: Effects): Effects {
  const guarded: Record<string, Effect> = {};
  for (const [name, effect] of Object.entries(effects)) {
    guarded[name] = (args, params) => {
      try {
        effect(args, params);
      } catch (error) {
        if (name !== 'reportEffectFailure') args.self.send({ type: 'EFFECT.FAILED', effect: name, message: errorMessage(error) });
      }
    };
  }
  return guarded as Effects;
}

/** A kind whose actor threw (at start or on a command) instead of reporting KIND.FAILED. */
const KIND_ERROR = 'xstate.error.actor.kind';
const kindError = ({ event }: { event: { error?: unknown } }) => `the worker kind failed: ${errorMessage(event.error)}`;

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
    reportEffectFailure: (_, _params: { effect: string; message: string }) => {},
    /** Said (and the logs flushed) before a worker that timed out goes: the arbiter kills it a second later. */
    reportAborted: () => {},
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
    ABORTED: {
      target: '.dead',
      actions: [{ type: 'fail', params: { code: EXIT_CRASHED, message: 'aborted: no heartbeat within the timeout' } }, 'reportAborted'],
    },
    'EFFECT.FAILED': { actions: { type: 'reportEffectFailure', params: ({ event }) => ({ effect: event.effect, message: event.message }) } },
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
            [KIND_ERROR]: {
              target: '#worker.dead',
              actions: [
                { type: 'fail', params: (args: { event: { error?: unknown } }) => ({ code: EXIT_BOOT_ERROR, message: kindError(args) }) },
                { type: 'reportBootFailure', params: (args: { event: { error?: unknown } }) => ({ code: EXIT_BOOT_ERROR, message: kindError(args) }) },
              ],
            },
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
        [KIND_ERROR]: { target: 'dead', actions: { type: 'fail', params: (args: { event: { error?: unknown } }) => ({ code: EXIT_CRASHED, message: kindError(args) }) } },
      },
    },
    draining: {
      entry: 'drainKind',
      ...heartbeating,
      // Past the deadline the remaining connections are cut: the kind is stopped with the machine.
      after: { gracefulTimeout: 'dead' },
      on: {
        'KIND.DRAINED': 'dead',
        DRAIN: {},
        [KIND_ERROR]: { target: 'dead', actions: { type: 'fail', params: (args: { event: { error?: unknown } }) => ({ code: EXIT_CRASHED, message: kindError(args) }) } },
      },
    },
    dead: { type: 'final' },
  },
  output: ({ context }) => ({ exitCode: context.exitCode, failure: context.failure }),
});
