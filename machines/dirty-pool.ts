// The dirty pool (--dirty-app): a supervised set of processes that hold a module
// loaded (a model, a large index) and run its functions for the HTTP workers,
// one call at a time each. Keeps `workers` of them, replaces one that dies or
// runs a call past its deadline, reloads rolling (a new one ready before an old
// one drains), and drains them all when the arbiter stops. Effects from src/.
import { type ActorRefFrom, and, assign, not, setup } from 'xstate';
import { type DirtyExit, type DirtyProcessInput, dirtyProcessMachine } from './dirty-process.js';
import { backoffMs } from './arbiter.js';
import type { LogLevel } from './worker-handle.js';
import { MIN_DIRTY_WORKERS, acceptsDirtyWorkerCount } from './dirty-pool-size.js';

export interface DirtyPoolInput {
  workers: number;
  bootTimeoutMs: number;
  gracefulTimeoutMs: number;
  killDelayMs: number;
  /** How long a process serves before its death no longer counts towards a crash loop (default 5 s). */
  settleMs?: number;
}

export type DirtyPoolEvent =
  | { type: 'DIRTY.READY'; id: string }
  | { type: 'DIRTY.SETTLED'; id: string }
  | { type: 'DIRTY.IDLE'; id: string }
  | { type: 'DIRTY.EXITED'; exit: DirtyExit }
  /** corral ctl dirty-scale N. */
  | { type: 'SCALE'; workers: number }
  /** HUP (the arbiter's reload): a new generation replaces the processes one by one. `workers` as re-read. */
  | { type: 'RELOAD'; workers: number }
  | { type: 'STOP'; quick?: boolean };

type ProcessRef = ActorRefFrom<typeof dirtyProcessMachine>;

export interface DirtyProcessInfo {
  generation: number;
  ready: boolean;
  /** Told to leave: the router gives it no more calls. */
  retiring: boolean;
  retireWith?: 'DRAIN' | 'STOP';
}

export interface DirtyPoolContext extends DirtyPoolInput {
  processRefs: Record<string, ProcessRef>;
  processInfo: Record<string, DirtyProcessInfo>;
  generation: number;
  spawned: number;
  stopMode: 'graceful' | 'quick';
  haltReason: string | undefined;
  /** A RELOAD came while booting: the pool reloads (to this many) once it serves. */
  reloadPending: number | undefined;
  /** Processes in a row that died by themselves before they settled. */
  crashStreak: number;
}

export interface DirtyPoolOutput {
  haltReason: string | undefined;
}

export { MIN_DIRTY_WORKERS, acceptsDirtyWorkerCount };

const activeIds = (context: DirtyPoolContext) => Object.keys(context.processInfo).filter((id) => !context.processInfo[id].retiring);
const freshIds = (context: DirtyPoolContext) => activeIds(context).filter((id) => context.processInfo[id].generation === context.generation);
const oldIds = (context: DirtyPoolContext) => activeIds(context).filter((id) => context.processInfo[id].generation < context.generation);

/**
 * Processes the router may hand a call to: ready, not told to leave, and still serving by their own chart
 * (one being killed for a late call or a broken pipe is not, though the pool has not heard of its end yet).
 * Each takes one call at a time: the router keeps which are busy.
 */
export const callableIds = (context: Pick<DirtyPoolContext, 'processInfo' | 'processRefs'>) =>
  Object.keys(context.processInfo).filter(
    (id) => context.processInfo[id].ready && !context.processInfo[id].retiring && context.processRefs[id]?.getSnapshot().matches('serving'),
  );

type Spawner = (src: 'dirtyProcess', options: { id: string; input: DirtyProcessInput }) => unknown;

function spawnOne(context: DirtyPoolContext, spawn: Spawner) {
  const spawned = context.spawned + 1;
  const id = `dirty-${spawned}`;
  const ref = spawn('dirtyProcess', {
    id,
    input: { id, bootTimeoutMs: context.bootTimeoutMs, gracefulTimeoutMs: context.gracefulTimeoutMs, killDelayMs: context.killDelayMs, settleMs: context.settleMs ?? 5000 },
  }) as ProcessRef;
  return {
    spawned,
    processRefs: { ...context.processRefs, [id]: ref },
    processInfo: { ...context.processInfo, [id]: { generation: context.generation, ready: false, retiring: false } },
  };
}

function retire(context: DirtyPoolContext, ids: string[], type: 'DRAIN' | 'STOP') {
  const processInfo = { ...context.processInfo };
  for (const id of ids) processInfo[id] = { ...processInfo[id], retiring: true, retireWith: type };
  return { processInfo };
}

const isBootFailure = (exit: DirtyExit) => exit.cause === 'bootFailed' || exit.cause === 'bootTimeout';

const describeBootFailure = (exit: DirtyExit) =>
  exit.cause === 'bootTimeout' ? 'its module and setup() took longer than the boot timeout (--timeout)' : (exit.bootError ?? `exit code ${exit.exitCode}`);

/** One log line for a dirty process that is gone. */
export function describeDirtyExit(exit: DirtyExit): { level: LogLevel; message: string } {
  const who = `Dirty process (pid:${exit.pid ?? '?'})`;
  if (exit.cause === 'stopped') return { level: 'info', message: `${who} exited` };
  if (exit.cause === 'callTimeout' || exit.cause === 'protocol') return { level: 'info', message: `${who} was killed` };
  if (isBootFailure(exit)) return { level: 'error', message: `${who} could not boot: ${describeBootFailure(exit)}` };
  if (exit.signal) return { level: 'error', message: `${who} was terminated by ${exit.signal}${exit.callId !== undefined ? ' during a call' : ''}` };
  return { level: 'error', message: `${who} exited with code ${exit.exitCode}${exit.callId !== undefined ? ' during a call' : ''}` };
}

const logExit = {
  type: 'log',
  params: ({ event }: { event: DirtyPoolEvent }) => (event.type === 'DIRTY.EXITED' ? describeDirtyExit(event.exit) : { level: 'debug' as const, message: event.type }),
} as const;

/** Told to src/ (the router rejects what the process was running) before the process is forgotten. */
const processExited = {
  type: 'processExited',
  params: ({ event }: { event: DirtyPoolEvent }) => ({ exit: (event as Extract<DirtyPoolEvent, { type: 'DIRTY.EXITED' }>).exit }),
} as const;

export const dirtyPoolMachine = setup({
  types: {
    input: {} as DirtyPoolInput,
    context: {} as DirtyPoolContext,
    events: {} as DirtyPoolEvent,
    output: {} as DirtyPoolOutput,
  },
  actors: { dirtyProcess: dirtyProcessMachine },
  actions: {
    log: (_, _params: { level: LogLevel; message: string }) => {},
    /** A process is gone: whatever it was running fails, with a code that says why. */
    processExited: (_, _params: { exit: DirtyExit }) => {},
    /** A process can take a call now: the router hands it the next one waiting. */
    workAvailable: () => {},
    announceReady: () => {},
    reloadFinished: (_, _params: { ok: boolean; reason?: string }) => {},
    spawnProcesses: assign(({ context, spawn }) => {
      let next = context;
      while (activeIds(next).length < next.workers) next = { ...next, ...spawnOne(next, spawn as Spawner) };
      return { spawned: next.spawned, processRefs: next.processRefs, processInfo: next.processInfo };
    }),
    // One at a time: a new process boots, then an old one drains.
    rollOn: assign(({ context, spawn }) => {
      const fresh = freshIds(context);
      const booting = fresh.some((id) => !context.processInfo[id].ready);
      return booting || fresh.length >= context.workers ? {} : spawnOne(context, spawn as Spawner);
    }),
    retireOneOld: assign(({ context }) => {
      const old = oldIds(context);
      const complete = freshIds(context).filter((id) => context.processInfo[id].ready).length >= context.workers;
      return old.length > 0 ? retire(context, complete ? old : old.slice(0, 1), 'DRAIN') : {};
    }),
    abandonGeneration: assign(({ context }) => retire(context, freshIds(context), 'STOP')),
    retireSurplus: assign(({ context }) => {
      const active = activeIds(context);
      return retire(context, active.slice(0, Math.max(0, active.length - context.workers)), 'DRAIN');
    }),
    stopAll: assign(({ context }) => retire(context, Object.keys(context.processRefs), context.stopMode === 'graceful' ? 'DRAIN' : 'STOP')),
    notifyRetiring: ({ context }) => {
      for (const [id, info] of Object.entries(context.processInfo)) if (info.retireWith) context.processRefs[id]?.send({ type: info.retireWith });
    },
    setWorkers: assign((_, params: { workers: number }) => ({ workers: params.workers })),
    nextGeneration: assign(({ context, event }) => {
      const wanted = event.type === 'RELOAD' ? event.workers : context.reloadPending;
      return { generation: context.generation + 1, workers: wanted !== undefined && acceptsDirtyWorkerCount(wanted) ? wanted : context.workers, reloadPending: undefined };
    }),
    deferReload: assign({ reloadPending: ({ event }) => (event.type === 'RELOAD' ? event.workers : undefined) }),
    setStopMode: assign({ stopMode: ({ context, event }) => (event.type === 'STOP' && event.quick ? 'quick' : context.stopMode) }),
    markReady: assign({
      processInfo: ({ context, event }) =>
        event.type === 'DIRTY.READY' && context.processInfo[event.id]
          ? { ...context.processInfo, [event.id]: { ...context.processInfo[event.id], ready: true } }
          : context.processInfo,
    }),
    forgetProcess: assign(({ context, event }) => {
      if (event.type !== 'DIRTY.EXITED') return {};
      const { [event.exit.id]: _ref, ...processRefs } = context.processRefs;
      const { [event.exit.id]: _info, ...processInfo } = context.processInfo;
      return { processRefs, processInfo };
    }),
    countCrash: assign({ crashStreak: ({ context }) => context.crashStreak + 1 }),
    resetCrashStreak: assign({ crashStreak: 0 }),
    halt: assign({
      haltReason: ({ event }) =>
        event.type === 'DIRTY.EXITED' ? `a dirty process could not boot (--dirty-app): ${describeBootFailure(event.exit)}` : 'halted',
    }),
  },
  guards: {
    allReady: ({ context }) => activeIds(context).length >= context.workers && activeIds(context).every((id) => context.processInfo[id].ready),
    isBootFailure: ({ event }) => event.type === 'DIRTY.EXITED' && isBootFailure(event.exit),
    isFresh: ({ context, event }) => event.type === 'DIRTY.READY' && context.processInfo[event.id]?.generation === context.generation,
    isFreshBootFailure: ({ context, event }) =>
      event.type === 'DIRTY.EXITED' && isBootFailure(event.exit) && context.processInfo[event.exit.id]?.generation === context.generation,
    rollingDone: ({ context }) => oldIds(context).length === 0 && freshIds(context).filter((id) => context.processInfo[id].ready).length >= context.workers,
    isValidScale: ({ event }) => event.type === 'SCALE' && acceptsDirtyWorkerCount(event.workers),
    isQuickStop: ({ event }) => event.type === 'STOP' && event.quick === true,
    noneLeft: ({ context }) => Object.keys(context.processRefs).length === 0,
    reloadPending: ({ context }) => context.reloadPending !== undefined,
    /** It died by itself before it settled (a crash right after setup(), a module that exits on its own). */
    diedYoung: ({ event }) => event.type === 'DIRTY.EXITED' && event.exit.cause === 'exited' && !event.exit.established,
    diedYoungAgain: ({ context, event }) => context.crashStreak >= 1 && event.type === 'DIRTY.EXITED' && event.exit.cause === 'exited' && !event.exit.established,
  },
  delays: {
    backoff: ({ context }) => backoffMs(context.crashStreak),
  },
}).createMachine({
  id: 'dirtyPool',
  context: ({ input }) => ({
    ...input,
    processRefs: {},
    processInfo: {},
    generation: 1,
    spawned: 0,
    stopMode: 'graceful',
    haltReason: undefined,
    reloadPending: undefined,
    crashStreak: 0,
  }),
  initial: 'booting',
  states: {
    booting: {
      entry: 'spawnProcesses',
      always: { guard: 'allReady', target: 'serving' },
      on: {
        'DIRTY.READY': { actions: ['markReady', 'workAvailable'] },
        'DIRTY.EXITED': [
          { guard: 'isBootFailure', target: 'draining', actions: [processExited, logExit, 'forgetProcess', 'halt'] },
          { actions: [processExited, logExit, 'forgetProcess', 'spawnProcesses'] },
        ],
        STOP: { target: 'draining', actions: 'setStopMode' },
        // The processes booting load the module as it was: a reload follows once they serve.
        RELOAD: { actions: 'deferReload' },
      },
    },
    serving: {
      entry: [{ type: 'log', params: ({ context }) => ({ level: 'info', message: `Dirty pool ready: ${context.workers} process(es)` }) }, 'announceReady'],
      initial: 'steady',
      states: {
        steady: {
          entry: ['spawnProcesses', 'retireSurplus', 'notifyRetiring'],
          always: { guard: 'reloadPending', target: 'reloading' },
          on: {
            // A crash loop: respawn after a back-off, as the HTTP workers do. Any other exit: `serving` below.
            'DIRTY.EXITED': {
              guard: and(['diedYoungAgain', not('isBootFailure')]),
              target: 'backingOff',
              actions: [processExited, logExit, 'forgetProcess', 'countCrash'],
            },
          },
        },
        // Dirty processes die right after booting: respawn after a growing delay instead of in a tight loop.
        backingOff: {
          entry: {
            type: 'log',
            params: ({ context }) => ({
              level: 'error',
              message: `Dirty processes keep dying right after booting (${context.crashStreak} in a row); next start in ${backoffMs(context.crashStreak) / 1000} s. Check the log above for the cause.`,
            }),
          },
          after: { backoff: 'steady' },
          on: {
            // The back-off's end respawns; a boot failure still halts (`serving` below).
            'DIRTY.EXITED': [
              { guard: and(['diedYoung', not('isBootFailure')]), actions: [processExited, logExit, 'forgetProcess', 'countCrash'] },
              { guard: not('isBootFailure'), actions: [processExited, logExit, 'forgetProcess'] },
            ],
          },
        },
        reloading: {
          entry: ['nextGeneration', 'rollOn'],
          always: {
            guard: 'rollingDone',
            target: 'steady',
            actions: [
              { type: 'log', params: ({ context }) => ({ level: 'info', message: `Dirty pool reloaded: generation ${context.generation} serving` }) },
              { type: 'reloadFinished', params: { ok: true } },
            ],
          },
          on: {
            // Another HUP mid-roll: a newer generation replaces both.
            RELOAD: { target: 'reloading', reenter: true },
            'DIRTY.READY': [
              { guard: 'isFresh', actions: ['markReady', 'retireOneOld', 'notifyRetiring', 'rollOn', 'workAvailable'] },
              { actions: ['markReady', 'workAvailable'] },
            ],
            'DIRTY.EXITED': [
              {
                guard: 'isFreshBootFailure',
                target: 'steady',
                actions: [
                  processExited,
                  logExit,
                  'forgetProcess',
                  'abandonGeneration',
                  'notifyRetiring',
                  { type: 'log', params: { level: 'error', message: 'Dirty pool reload failed: the previous processes keep serving' } },
                  { type: 'reloadFinished', params: { ok: false, reason: 'a new dirty process could not boot' } },
                ],
              },
              { actions: [processExited, logExit, 'forgetProcess', 'rollOn'] },
            ],
          },
        },
      },
      on: {
        'DIRTY.READY': { actions: ['markReady', 'workAvailable'] },
        'DIRTY.IDLE': { actions: 'workAvailable' },
        'DIRTY.SETTLED': { actions: 'resetCrashStreak' },
        'DIRTY.EXITED': [
          // A replacement that cannot boot any more (its module broke on disk): the pool halts.
          { guard: 'isBootFailure', target: 'draining', actions: [processExited, logExit, 'forgetProcess', 'halt'] },
          { guard: 'diedYoung', actions: [processExited, logExit, 'forgetProcess', 'countCrash', 'spawnProcesses'] },
          { actions: [processExited, logExit, 'forgetProcess', 'spawnProcesses'] },
        ],
        SCALE: [
          {
            guard: 'isValidScale',
            actions: [
              { type: 'log', params: ({ event }) => ({ level: 'info', message: `Scaling the dirty pool to ${event.workers} process(es)` }) },
              { type: 'setWorkers', params: ({ event }) => ({ workers: event.workers }) },
              'spawnProcesses',
              'retireSurplus',
              'notifyRetiring',
            ],
          },
          {
            actions: {
              type: 'log',
              params: ({ event }) => ({ level: 'warning', message: `Not scaling the dirty pool to ${String(event.workers)}: the minimum is ${MIN_DIRTY_WORKERS}` }),
            },
          },
        ],
        RELOAD: '.reloading',
        STOP: { target: 'draining', actions: 'setStopMode' },
      },
    },
    draining: {
      entry: ['stopAll', 'notifyRetiring'],
      always: { guard: 'noneLeft', target: 'dead' },
      on: {
        'DIRTY.EXITED': { actions: [processExited, logExit, 'forgetProcess'] },
        STOP: { guard: and(['isQuickStop', not('noneLeft')]), actions: ['setStopMode', 'stopAll', 'notifyRetiring'] },
      },
    },
    dead: { type: 'final' },
  },
  output: ({ context }) => ({ haltReason: context.haltReason }),
});
