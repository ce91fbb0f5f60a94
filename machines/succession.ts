// Who is the arbiter, across a USR2 upgrade: two regions of one chart, run by
// the arbiter for its whole life.
// - predecessor: an arbiter started by an upgrade shares the sockets with the
//   one that started it (titled master.2, pidfile PIDFILE.2) until that one
//   exits; then it takes over (master, PIDFILE).
// - successor: USR2 starts a new arbiter on the same sockets, unless one is
//   already starting or running; its exit (a rollback, or a failed start) is
//   said and another USR2 may follow.
// Effects (the pidfile, the process title, spawning, watching) come from src/.
import { assign, fromCallback, setup } from 'xstate';
import type { LogLevel } from './worker-handle.js';

export interface SuccessionInput {
  /** The pid of the arbiter this one was started by (USR2), if any. */
  predecessorPid: number | undefined;
}

export type SuccessionEvent =
  /** USR2 (or `corral ctl upgrade`), passed on by the arbiter. */
  | { type: 'UPGRADE' }
  | { type: 'SUCCESSOR.STARTED'; pid: number }
  | { type: 'SUCCESSOR.FAILED'; message: string }
  | { type: 'SUCCESSOR.EXITED'; exitCode: number | null; signal: string | null }
  | { type: 'PREDECESSOR.EXITED' };

export interface SuccessionContext extends SuccessionInput {
  successorPid: number | undefined;
}

/** Whether another arbiter serves on the same sockets now: then a unix socket's file must stay when this one closes. */
export const sharesSockets = (snapshot: { matches(state: object): boolean }) =>
  snapshot.matches({ predecessor: 'sharing' }) || snapshot.matches({ successor: 'upgrading' });

export const successionMachine = setup({
  types: {
    input: {} as SuccessionInput,
    context: {} as SuccessionContext,
    events: {} as SuccessionEvent,
  },
  actors: {
    // Supplied from src/: reports PREDECESSOR.EXITED once the arbiter that started this one is gone.
    watchPredecessor: fromCallback<SuccessionEvent, { pid: number }>(() => {}),
    // Supplied from src/: runs preExec, starts the new arbiter on the sockets, reports SUCCESSOR.*.
    startSuccessor: fromCallback<SuccessionEvent>(() => {}),
  },
  actions: {
    log: (_, _params: { level: LogLevel; message: string }) => {},
    /** PIDFILE.2 becomes PIDFILE, master.2 becomes master. */
    takeOver: () => {},
    recordSuccessor: assign({ successorPid: ({ event }) => (event.type === 'SUCCESSOR.STARTED' ? event.pid : undefined) }),
    forgetSuccessor: assign({ successorPid: undefined }),
  },
  guards: {
    upgraded: ({ context }) => context.predecessorPid !== undefined,
  },
}).createMachine({
  id: 'succession',
  type: 'parallel',
  context: ({ input }) => ({ ...input, successorPid: undefined }),
  states: {
    predecessor: {
      initial: 'checking',
      states: {
        checking: { always: [{ guard: 'upgraded', target: 'sharing' }, { target: 'none' }] },
        none: {},
        sharing: {
          invoke: { src: 'watchPredecessor', input: ({ context }) => ({ pid: context.predecessorPid! }) },
          on: {
            'PREDECESSOR.EXITED': {
              target: 'tookOver',
              actions: [
                'takeOver',
                { type: 'log', params: ({ context }) => ({ level: 'info', message: `The previous arbiter (pid: ${context.predecessorPid}) has exited; this one takes over` }) },
              ],
            },
          },
        },
        tookOver: {},
      },
    },
    successor: {
      initial: 'idle',
      states: {
        idle: { on: { UPGRADE: 'upgrading' } },
        upgrading: {
          invoke: { src: 'startSuccessor' },
          initial: 'starting',
          states: {
            starting: {
              on: {
                'SUCCESSOR.STARTED': {
                  target: 'running',
                  actions: ['recordSuccessor', { type: 'log', params: ({ event }) => ({ level: 'info', message: `Upgrading: started a new arbiter (pid: ${event.pid}) on the same sockets` }) }],
                },
              },
            },
            running: {},
          },
          on: {
            UPGRADE: {
              actions: {
                type: 'log',
                params: ({ context }) => ({ level: 'warning', message: `An upgrade is already running${context.successorPid ? ` (pid: ${context.successorPid})` : ''}; ignoring USR2.` }),
              },
            },
            'SUCCESSOR.FAILED': {
              target: 'idle',
              actions: ['forgetSuccessor', { type: 'log', params: ({ event }) => ({ level: 'error', message: `Upgrade failed: cannot start a new arbiter: ${event.message}` }) }],
            },
            'SUCCESSOR.EXITED': {
              target: 'idle',
              actions: [
                {
                  type: 'log',
                  params: ({ context, event }) => ({
                    level: 'info',
                    message: `The upgraded arbiter (pid: ${context.successorPid ?? '?'}) exited (${event.signal ?? `code ${event.exitCode}`})`,
                  }),
                },
                'forgetSuccessor',
              ],
            },
          },
        },
      },
    },
  },
});
