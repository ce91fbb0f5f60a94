// The arbiter: owns the listeners, keeps `workers` worker handles alive,
// and turns signals into a graceful or quick shutdown. Effects (binding
// sockets, closing them, logging) are named here and supplied from src/.
import { type ActorRefFrom, and, assign, fromPromise, not, sendTo, setup } from 'xstate';
import { successionMachine } from './succession.js';
import { type LogLevel, type RecycleCause, type WorkerExit, type WorkerHandleInput, workerHandleMachine } from './worker-handle.js';

export interface ArbiterInput {
  workers: number;
  timeoutMs: number;
  gracefulTimeoutMs: number;
  killDelayMs: number;
  /** See WorkerHandleInput.settleMs. */
  settleMs: number;
  /**
   * On TERM, how long the arbiter reports not ready while it keeps serving, before it drains:
   * time for a load balancer or Kubernetes to stop sending it connections. 0: drain at once.
   */
  drainDelayMs?: number;
  /** See WorkerHandleInput.maxMemoryBytes. */
  maxMemoryBytes?: number;
  /** Set when this arbiter was started by another one's upgrade (USR2): that one's pid. */
  predecessorPid?: number;
  /**
   * The arbiter runs in a terminal: a WINCH signal there is a window resize, not an
   * operator's request (gunicorn ignores it unless daemonized). One sent `by` someone is honoured.
   */
  attachedToTerminal?: boolean;
}

export type ShutdownSignal = 'SIGTERM' | 'SIGINT' | 'SIGQUIT';
/**
 * Signals the arbiter acts on: the shutdowns; USR1 reopens log files; HUP
 * reloads (rolling); TTIN/TTOU add or remove a worker; WINCH stops all workers
 * but keeps the listeners; USR2 starts a new arbiter that inherits the listeners.
 */
export type ArbiterSignal = ShutdownSignal | 'SIGUSR1' | 'SIGUSR2' | 'SIGHUP' | 'SIGTTIN' | 'SIGTTOU' | 'SIGWINCH';

/**
 * What a reload re-reads: the settings the arbiter's own chart uses. The drain delay
 * counts from the reload on; a worker's limits (timeout, max memory) are its
 * generation's, so they reach the workers the reload starts. One left out stays as it was.
 */
export interface ReloadedSettings {
  workers: number;
  timeoutMs: number;
  gracefulTimeoutMs: number;
  drainDelayMs?: number;
  maxMemoryBytes?: number;
}

export type ArbiterEvent =
  /** A signal, or the same operation asked for by embedding code (`by` names it, e.g. 'serve()'). */
  | { type: 'SIGNAL'; signal: ArbiterSignal; by?: string }
  /** Set the number of workers (embedding: `handle.scale(n)`): new ones boot, surplus ones drain, oldest first. */
  | { type: 'SCALE'; workers: number }
  | { type: 'WORKER.READY'; id: string; pid: number | undefined }
  | { type: 'WORKER.RECYCLE'; id: string; reason: string; cause?: RecycleCause }
  | { type: 'WORKER.SETTLED'; id: string }
  | { type: 'WORKER.EXITED'; exit: WorkerExit }
  /** A process of the dirty pool cannot boot: the server halts, as for a worker that cannot load the app. */
  | { type: 'DIRTY.HALTED'; reason: string };

type WorkerRef = ActorRefFrom<typeof workerHandleMachine>;

export interface ArbiterContext extends ArbiterInput {
  /** Listening addresses, as URLs, once bound. */
  listeners: string[];
  workerRefs: Record<string, WorkerRef>;
  /** Per worker: which generation (bumped by each reload), ready yet, told to drain. */
  workerInfo: Record<string, WorkerInfo>;
  generation: number;
  spawned: number;
  /** Workers in a row that died before settling; respawns back off as it grows. */
  crashStreak: number;
  announcedReady: boolean;
  stopMode: 'graceful' | 'quick';
  exitCode: number;
  haltReason: string | undefined;
}

export interface WorkerInfo {
  generation: number;
  ready: boolean;
  retiring: boolean;
  /** Asked to be replaced (--max-requests): serves on until a replacement is ready. */
  recycling?: boolean;
  /** How it was told to leave; repeating it is harmless. */
  retireWith?: 'DRAIN' | 'STOP';
}

export interface ArbiterOutput {
  exitCode: number;
  haltReason: string | undefined;
}

/**
 * The fewest workers TTOU, SCALE, `corral ctl scale` and `serve().scale()` may
 * leave: with none, every request would wait. WINCH alone goes to 0 (it keeps
 * the sockets for an upgrade's new arbiter), as gunicorn's does.
 */
export const MIN_WORKERS = 1;
/** Whether SCALE accepts this number of workers (embedding and `corral ctl` ask before sending it). */
export const acceptsWorkerCount = (workers: number) => Number.isInteger(workers) && workers >= MIN_WORKERS;

/** The second death in a row respawns after 1 s, then 2, 4 … up to 30 s. */
export const backoffMs = (crashStreak: number) => Math.min(30_000, 1000 * 2 ** (crashStreak - 2));

/** Exit codes a worker uses to say it cannot boot: retrying would only loop. */
export const WORKER_BOOT_ERROR = 3;
export const WORKER_APP_LOAD_ERROR = 4;

/** A worker that cannot boot: the arbiter halts instead of replacing it. */
export const isBootFailure = (exit: WorkerExit) =>
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

/** Workers not told to leave, oldest first. */
const activeIds = (context: ArbiterContext) =>
  Object.keys(context.workerInfo).filter((id) => !context.workerInfo[id].retiring && !context.workerInfo[id].recycling);
const recyclingIds = (context: ArbiterContext) =>
  Object.keys(context.workerInfo).filter((id) => context.workerInfo[id].recycling && !context.workerInfo[id].retiring);
const freshIds = (context: ArbiterContext) => activeIds(context).filter((id) => context.workerInfo[id].generation === context.generation);
const oldIds = (context: ArbiterContext) => activeIds(context).filter((id) => context.workerInfo[id].generation < context.generation);

/** Workers that can take a request now: ready, and not told to leave. */
export const readyWorkerCount = (context: Pick<ArbiterContext, 'workerInfo'>) =>
  Object.values(context.workerInfo).filter((info) => info.ready && !info.retiring).length;

/**
 * What `GET /readyz` answers: the arbiter admits new traffic (a state tagged `admitting`:
 * serving, not booting, not in its drain delay, not draining) and at least one worker is ready.
 */
export const reportsReady = (snapshot: { hasTag(tag: 'admitting'): boolean; context: Pick<ArbiterContext, 'workerInfo'> }) =>
  snapshot.hasTag('admitting') && readyWorkerCount(snapshot.context) > 0;

type Spawner = (src: 'workerHandle', options: { id: string; input: WorkerHandleInput }) => unknown;

function spawnOne(context: ArbiterContext, spawn: Spawner) {
  const spawned = context.spawned + 1;
  const id = `worker-${spawned}`;
  const ref = spawn('workerHandle', {
    id,
    input: {
      id,
      timeoutMs: context.timeoutMs,
      gracefulTimeoutMs: context.gracefulTimeoutMs,
      killDelayMs: context.killDelayMs,
      settleMs: context.settleMs,
      maxMemoryBytes: context.maxMemoryBytes ?? 0,
    },
  }) as WorkerRef;
  return {
    spawned,
    workerRefs: { ...context.workerRefs, [id]: ref },
    workerInfo: { ...context.workerInfo, [id]: { generation: context.generation, ready: false, retiring: false } },
  };
}

/** Marks workers as leaving, to be told DRAIN (graceful) or STOP (quick) by `notifyRetiring`. */
function retire(context: ArbiterContext, ids: string[], type: 'DRAIN' | 'STOP') {
  const workerInfo = { ...context.workerInfo };
  for (const id of ids) workerInfo[id] = { ...workerInfo[id], retiring: true, retireWith: type };
  return { workerInfo };
}

const logExit = {
  type: 'log',
  params: ({ event }: { event: ArbiterEvent }) =>
    event.type === 'WORKER.EXITED' ? describeExit(event.exit) : { level: 'debug' as const, message: event.type },
} as const;

/**
 * A worker is gone (run before it is forgotten). `replaced`: the chart starts
 * another in its place — it was one of the workers wanted, and the arbiter is
 * not halting or stopping.
 */
const workerExited = (replaces: boolean) =>
  ({
    type: 'workerExited',
    params: ({ context, event }: { context: ArbiterContext; event: ArbiterEvent }) => {
      const { exit } = event as Extract<ArbiterEvent, { type: 'WORKER.EXITED' }>;
      const info = context.workerInfo[exit.id];
      return { exit, replaced: replaces && info !== undefined && !info.retiring };
    },
  }) as const;
const replacedExit = workerExited(true);
const finalExit = workerExited(false);

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The config could not be re-read for a reload: said, and reported to whoever asked for it. */
const reloadFailed = [
  'announceReloaded',
  {
    type: 'log',
    params: ({ event }: { event: { error?: unknown } }) => ({ level: 'error' as const, message: `Reload failed, keeping the current workers: ${reasonOf(event.error)}` }),
  },
  { type: 'reloadFinished', params: ({ event }: { event: { error?: unknown } }) => ({ ok: false, reason: reasonOf(event.error) }) },
] as const;

/** Said when the dirty pool halts the server, before the drain: why it is stopping. */
const logDirtyHalt = {
  type: 'log',
  params: () => ({ level: 'error' as const, message: 'The dirty pool cannot start a process; stopping' }),
} as const;

const logSignal = {
  type: 'log',
  params: ({ event }: { event: ArbiterEvent }) => ({
    level: 'info' as const,
    message: event.type !== 'SIGNAL'
      ? 'Handling signal: ?'
      : event.by
        ? `Handling ${event.signal.replace(/^SIG/, '').toLowerCase()} from ${event.by}`
        : `Handling signal: ${event.signal.replace(/^SIG/, '').toLowerCase()}`,
  }),
} as const;

export const arbiterMachine = setup({
  types: {
    input: {} as ArbiterInput,
    context: {} as ArbiterContext,
    events: {} as ArbiterEvent,
    output: {} as ArbiterOutput,
  },
  actions: {
    log: (_, _params: { level: LogLevel; message: string }) => {},
    closeListeners: () => {},
    // Hooks for src/: the first generation is all ready; a worker is gone (after logging).
    announceReady: () => {},
    // For service managers (systemd's RELOADING=1 / READY=1 / STOPPING=1).
    announceReloading: () => {},
    announceReloaded: () => {},
    /** A reload read a good config: the dirty pool (if any) rolls too, each new process ready before an old one drains. */
    rollDirtyPool: () => {},
    /** A reload ended: the new generation serves (ok), or the previous one keeps serving (reason). */
    reloadFinished: (_, _params: { ok: boolean; reason?: string }) => {},
    announceStopping: () => {},
    /** Readiness turned off ahead of a drain (the health endpoint reads `reportsReady`). */
    announceNotReady: () => {},
    // USR2: the succession chart starts a new arbiter, unless one is already under way.
    startUpgrade: sendTo('succession', { type: 'UPGRADE' as const }),
    workerExited: (_, _params: { exit: WorkerExit; replaced: boolean }) => {},
    /** A worker is to be replaced because it reached a limit (counted by cause). */
    workerRecycling: (_, _params: { id: string; cause: RecycleCause }) => {},
    reopenOwnLogs: () => {},
    // Each worker reopens its own log files too.
    reopenWorkerLogs: ({ context }) => {
      for (const ref of Object.values(context.workerRefs)) ref.send({ type: 'REOPEN_LOGS' });
    },
    notifyRetiring: ({ context }) => {
      for (const [id, info] of Object.entries(context.workerInfo)) {
        if (info.retireWith) context.workerRefs[id]?.send({ type: info.retireWith });
      }
    },
    // Every worker leaves: DRAIN (graceful) or STOP (quick), whichever the stop mode says.
    stopWorkers: assign(({ context }) => retire(context, Object.keys(context.workerRefs), context.stopMode === 'graceful' ? 'DRAIN' : 'STOP')),
    // Keeps `workers` workers that are not leaving.
    spawnWorkers: assign(({ context, spawn }) => {
      let next = context;
      while (activeIds(next).length < next.workers) next = { ...next, ...spawnOne(next, spawn as Spawner) };
      return { spawned: next.spawned, workerRefs: next.workerRefs, workerInfo: next.workerInfo };
    }),
    // A rolling reload moves one worker at a time: a new one boots, then an old one drains.
    rollOn: assign(({ context, spawn }) => {
      const fresh = freshIds(context);
      const booting = fresh.some((id) => !context.workerInfo[id].ready);
      return booting || fresh.length >= context.workers ? {} : spawnOne(context, spawn as Spawner);
    }),
    markRecycling: assign(({ context, event }) =>
      event.type === 'WORKER.RECYCLE' && context.workerInfo[event.id] && !context.workerInfo[event.id].retiring
        ? { workerInfo: { ...context.workerInfo, [event.id]: { ...context.workerInfo[event.id], recycling: true } } }
        : {},
    ),
    // A worker became ready: one that asked to be replaced may now drain.
    retireOneRecycled: assign(({ context }) => {
      const [oldest] = recyclingIds(context);
      return oldest ? retire(context, [oldest], 'DRAIN') : {};
    }),
    // One old worker per new one ready; once the new generation is complete, whatever old ones
    // are left (there were more than a reload now wants: TTIN or SCALE before it) go too.
    retireOneOld: assign(({ context }) => {
      const old = oldIds(context);
      const complete = freshIds(context).filter((id) => context.workerInfo[id].ready).length >= context.workers;
      return old.length > 0 ? retire(context, complete ? old : old.slice(0, 1), 'DRAIN') : {};
    }),
    // A new generation that cannot boot is stopped; the old one keeps serving.
    abandonGeneration: assign(({ context }) => retire(context, freshIds(context), 'STOP')),
    // Oldest first; a worker waiting to be recycled stays only while it covers for a replacement not ready yet.
    retireSurplus: assign(({ context }) => {
      const active = activeIds(context);
      const surplus = active.slice(0, Math.max(0, active.length - context.workers));
      const stillBooting = active.filter((id) => !surplus.includes(id) && !context.workerInfo[id].ready).length;
      const recycling = recyclingIds(context);
      return retire(context, [...surplus, ...recycling.slice(0, Math.max(0, recycling.length - stillBooting))], 'DRAIN');
    }),
    setWorkers: assign((_, params: { workers: number }) => ({ workers: params.workers })),
    workersChanged: (_, _params: { from: number; to: number }) => {},
    applyReload: assign(({ context, event }) => {
      const output = (event as unknown as { output: ReloadedSettings }).output;
      return { ...output, generation: context.generation + 1 };
    }),
    forgetWorker: assign(({ context, event }) => {
      if (event.type !== 'WORKER.EXITED') return {};
      const { [event.exit.id]: _gone, ...workerRefs } = context.workerRefs;
      const { [event.exit.id]: _info, ...workerInfo } = context.workerInfo;
      return { workerRefs, workerInfo };
    }),
    markReady: assign({
      workerInfo: ({ context, event }) =>
        event.type === 'WORKER.READY' && context.workerInfo[event.id]
          ? { ...context.workerInfo, [event.id]: { ...context.workerInfo[event.id], ready: true } }
          : context.workerInfo,
    }),
    markAnnounced: assign({ announcedReady: true }),
    countCrash: assign({ crashStreak: ({ context }) => context.crashStreak + 1 }),
    resetCrashStreak: assign({ crashStreak: 0 }),
    halt: assign(({ event }) => {
      if (event.type !== 'WORKER.EXITED') return {};
      const code = event.exit.bootError?.code ?? event.exit.exitCode ?? WORKER_BOOT_ERROR;
      const reason = code === WORKER_APP_LOAD_ERROR ? 'App failed to load.' : 'Worker failed to boot.';
      const detail = event.exit.bootError?.message;
      return { exitCode: code, stopMode: 'quick' as const, haltReason: detail ? `${reason} ${detail}` : reason };
    }),
    // Graceful, unlike a worker that cannot boot: the workers serving can finish what needs no dirty call.
    haltForDirtyPool: assign(({ event }) =>
      event.type === 'DIRTY.HALTED' ? { exitCode: WORKER_APP_LOAD_ERROR, haltReason: event.reason } : {},
    ),
    setStopMode: assign({
      stopMode: ({ event }) => (event.type === 'SIGNAL' && event.signal === 'SIGTERM' ? 'graceful' : 'quick'),
    }),
  },
  actors: {
    // Supplied from src/: bind every configured address; resolves to their URLs.
    bindListeners: fromPromise<string[]>(async () => []),
    // Supplied from src/: re-read the config file for a reload.
    reloadConfig: fromPromise<ReloadedSettings>(async () => {
      throw new Error('reloading is not supplied');
    }),
    workerHandle: workerHandleMachine,
    succession: successionMachine,
  },
  delays: {
    // The second death in a row respawns after 1 s, then 2, 4 … up to 30 s.
    backoff: ({ context }) => backoffMs(context.crashStreak),
    drainDelay: ({ context }) => context.drainDelayMs ?? 0,
  },
  guards: {
    /** No halt has said why the server stops (a TERM, or nothing yet). */
    notHalted: ({ context }) => context.haltReason === undefined,
    diedYoung: ({ event }) => event.type === 'WORKER.EXITED' && event.exit.cause === 'exited' && !event.exit.established,
    diedYoungAgain: ({ context, event }) =>
      context.crashStreak >= 1 && event.type === 'WORKER.EXITED' && event.exit.cause === 'exited' && !event.exit.established,
    completesFirstReady: ({ context, event }) =>
      !context.announcedReady &&
      event.type === 'WORKER.READY' &&
      activeIds(context).filter((id) => id === event.id || context.workerInfo[id].ready).length >= context.workers,
    isFreshBootFailure: ({ context, event }) =>
      event.type === 'WORKER.EXITED' && isBootFailure(event.exit) && context.workerInfo[event.exit.id]?.generation === context.generation,
    isFresh: ({ context, event }) => event.type === 'WORKER.READY' && context.workerInfo[event.id]?.generation === context.generation,
    rollingDone: ({ context }) =>
      oldIds(context).length === 0 && freshIds(context).filter((id) => context.workerInfo[id].ready).length >= context.workers,
    isSignal: ({ event }, params: { signal: ArbiterSignal }) => event.type === 'SIGNAL' && event.signal === params.signal,
    isWindowResize: ({ context, event }) => context.attachedToTerminal === true && event.type === 'SIGNAL' && event.by === undefined,
    canShrink: ({ context }) => context.workers > MIN_WORKERS,
    isBootFailure: ({ event }) => event.type === 'WORKER.EXITED' && isBootFailure(event.exit),
    noWorkersLeft: ({ context }) => Object.keys(context.workerRefs).length === 0,
    rollUnderWay: ({ context }) => oldIds(context).length > 0,
    reloadChangesWorkerCount: ({ context, event }) => (event as unknown as { output?: ReloadedSettings }).output?.workers !== context.workers,
    isValidScale: ({ event }) => event.type === 'SCALE' && acceptsWorkerCount(event.workers),
    isQuickSignal: ({ event }) => event.type === 'SIGNAL' && (event.signal === 'SIGINT' || event.signal === 'SIGQUIT'),
    hasDrainDelay: ({ context }) => (context.drainDelayMs ?? 0) > 0,
    isShutdownSignal: ({ event }) => event.type === 'SIGNAL' && ['SIGTERM', 'SIGINT', 'SIGQUIT'].includes(event.signal),
  },
}).createMachine({
  id: 'arbiter',
  context: ({ input }) => ({
    ...input,
    listeners: [],
    workerRefs: {},
    workerInfo: {},
    generation: 1,
    spawned: 0,
    crashStreak: 0,
    announcedReady: false,
    stopMode: 'graceful',
    exitCode: 0,
    haltReason: undefined,
  }),
  // Runs for the arbiter's whole life: who serves on the sockets across an upgrade.
  invoke: { id: 'succession', src: 'succession', input: ({ context }) => ({ predecessorPid: context.predecessorPid }) },
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
      on: {
        SIGNAL: { target: 'dead', actions: logSignal },
        'DIRTY.HALTED': { target: 'dead', actions: [logDirtyHalt, 'haltForDirtyPool'] },
      },
    },
    serving: {
      tags: ['admitting'],
      entry: 'spawnWorkers',
      initial: 'steady',
      states: {
        steady: {
          // Whatever led here (a back-off, a finished or abandoned reload), the pool is made what is wanted.
          entry: ['spawnWorkers', 'retireSurplus', 'notifyRetiring'],
          on: {
            // A crash loop: respawn after a back-off. Any other exit: `serving` below.
            'WORKER.EXITED': {
              guard: and(['diedYoungAgain', not('isBootFailure')]),
              target: 'backingOff',
              actions: [replacedExit, logExit, 'forgetWorker', 'countCrash'],
            },
          },
        },
        // Workers die right after booting: respawn after a growing delay instead of in a tight loop.
        backingOff: {
          entry: {
            type: 'log',
            params: ({ context }) => ({
              level: 'error',
              message: `Workers keep dying right after booting (${context.crashStreak} in a row); next start in ${backoffMs(context.crashStreak) / 1000} s. Check the log above for the cause.`,
            }),
          },
          after: { backoff: 'steady' },
          on: {
            // The back-off's end respawns; a boot failure still halts (`serving` below).
            'WORKER.EXITED': [
              { guard: and(['diedYoung', not('isBootFailure')]), actions: [replacedExit, logExit, 'forgetWorker', 'countCrash'] },
              { guard: not('isBootFailure'), actions: [replacedExit, logExit, 'forgetWorker'] },
            ],
          },
        },
        // HUP: re-read the config, then replace workers one by one, each new one ready before an old one drains.
        reloading: {
          entry: 'announceReloading',
          initial: 'rereading',
          states: {
            rereading: {
              invoke: {
                src: 'reloadConfig',
                onDone: [
                  // A config that asks for another number of workers: said (nworkersChanged) as a scale is.
                  {
                    guard: 'reloadChangesWorkerCount',
                    target: 'rolling',
                    actions: [
                      {
                        type: 'workersChanged',
                        params: ({ context, event }) => ({ from: context.workers, to: (event as unknown as { output: ReloadedSettings }).output.workers }),
                      },
                      'applyReload',
                      'rollDirtyPool',
                    ],
                  },
                  { target: 'rolling', actions: ['applyReload', 'rollDirtyPool'] },
                ],
                onError: [
                  // A roll already under way (an earlier HUP read a good config) goes on; else nothing changes.
                  { guard: 'rollUnderWay', target: 'rolling', actions: reloadFailed },
                  { target: '#arbiter.serving.steady', actions: reloadFailed },
                ],
              },
            },
            rolling: {
              entry: 'rollOn',
              always: {
                guard: 'rollingDone',
                target: '#arbiter.serving.steady',
                actions: [
                  { type: 'log', params: ({ context }) => ({ level: 'info', message: `Reload complete: generation ${context.generation} serving` }) },
                  'announceReloaded',
                  { type: 'reloadFinished', params: { ok: true } },
                ],
              },
              on: {
                'WORKER.READY': [
                  { guard: 'isFresh', actions: ['markReady', 'retireOneOld', 'retireOneRecycled', 'notifyRetiring', 'rollOn'] },
                  { actions: ['markReady', 'retireOneRecycled', 'notifyRetiring'] },
                ],
                'WORKER.EXITED': [
                  {
                    guard: 'isFreshBootFailure',
                    target: '#arbiter.serving.steady',
                    actions: [
                      finalExit,
                      'forgetWorker',
                      'abandonGeneration', 'notifyRetiring',
                      'announceReloaded',
                      {
                        type: 'log',
                        params: ({ event }) => ({
                          level: 'error',
                          message: `Reload failed, the previous workers keep serving: a new worker could not boot (${
                            event.exit.bootError?.message ?? `exit code ${event.exit.exitCode}`
                          })`,
                        }),
                      },
                      {
                        type: 'reloadFinished',
                        params: ({ event }) => ({ ok: false, reason: `a new worker could not boot (${event.exit.bootError?.message ?? `exit code ${event.exit.exitCode}`})` }),
                      },
                    ],
                  },
                  { actions: [replacedExit, logExit, 'forgetWorker', 'rollOn'] },
                ],
              },
            },
          },
        },
      },
      on: {
        // Every state of `serving` forgets a worker that exited, and keeps the pool full
        // (states that must do otherwise say so above); one that cannot boot halts the arbiter.
        'WORKER.EXITED': [
          { guard: 'isBootFailure', target: '#arbiter.draining', actions: [finalExit, 'forgetWorker', 'halt'] },
          { guard: 'diedYoung', actions: [replacedExit, logExit, 'forgetWorker', 'countCrash', 'spawnWorkers'] },
          { actions: [replacedExit, logExit, 'forgetWorker', 'spawnWorkers'] },
        ],
        'WORKER.READY': [
          {
            guard: 'completesFirstReady',
            actions: [
              'markReady',
              'markAnnounced',
              { type: 'log', params: ({ context }) => ({ level: 'info', message: `Ready: ${context.workers} worker(s) serving` }) },
              'announceReady',
              'retireOneRecycled',
              'notifyRetiring',
            ],
          },
          { actions: ['markReady', 'retireOneRecycled', 'notifyRetiring'] },
        ],
        'WORKER.SETTLED': { actions: 'resetCrashStreak' },
        'DIRTY.HALTED': { target: '#arbiter.draining', actions: [logDirtyHalt, 'haltForDirtyPool'] },
        'WORKER.RECYCLE': {
          actions: [
            { type: 'log', params: ({ event }) => ({ level: 'info', message: `Replacing ${event.id}: it ${event.reason}` }) },
            { type: 'workerRecycling', params: ({ event }) => ({ id: event.id, cause: event.cause ?? 'maxRequests' }) },
            'markRecycling',
            'spawnWorkers',
          ],
        },
        SIGNAL: [
          { guard: { type: 'isSignal', params: { signal: 'SIGUSR1' } }, actions: [logSignal, 'reopenOwnLogs', 'reopenWorkerLogs'] },
          { guard: { type: 'isSignal', params: { signal: 'SIGHUP' } }, target: '.reloading', actions: logSignal },
          { guard: { type: 'isSignal', params: { signal: 'SIGUSR2' } }, actions: [logSignal, 'startUpgrade'] },
          {
            guard: { type: 'isSignal', params: { signal: 'SIGTTIN' } },
            actions: [
              logSignal,
              { type: 'workersChanged', params: ({ context }) => ({ from: context.workers, to: context.workers + 1 }) },
              { type: 'setWorkers', params: ({ context }) => ({ workers: context.workers + 1 }) },
              'spawnWorkers',
            ],
          },
          {
            guard: and([{ type: 'isSignal', params: { signal: 'SIGTTOU' as const } }, 'canShrink']),
            actions: [
              logSignal,
              { type: 'workersChanged', params: ({ context }) => ({ from: context.workers, to: context.workers - 1 }) },
              { type: 'setWorkers', params: ({ context }) => ({ workers: context.workers - 1 }) },
              'retireSurplus', 'notifyRetiring',
            ],
          },
          {
            guard: { type: 'isSignal', params: { signal: 'SIGTTOU' } },
            actions: [
              logSignal,
              { type: 'log', params: ({ context }) => ({ level: 'warning', message: `Not removing a worker: ${context.workers} is the minimum (WINCH stops them all but keeps the sockets)` }) },
            ],
          },
          {
            guard: and([{ type: 'isSignal', params: { signal: 'SIGWINCH' as const } }, 'isWindowResize']),
            actions: {
              type: 'log',
              params: {
                level: 'info',
                message: 'Ignoring signal: winch (in a terminal it means a window resize; to stop every worker but keep the sockets, send it where corral runs without a terminal)',
              },
            },
          },
          {
            guard: { type: 'isSignal', params: { signal: 'SIGWINCH' } },
            actions: [
              logSignal,
              { type: 'workersChanged', params: ({ context }) => ({ from: context.workers, to: 0 }) },
              { type: 'setWorkers', params: { workers: 0 } },
              'retireSurplus', 'notifyRetiring',
            ],
          },
          // TERM with a drain delay: first stop admitting (readiness fails), then drain.
          {
            guard: and([{ type: 'isSignal', params: { signal: 'SIGTERM' as const } }, 'hasDrainDelay']),
            target: 'delayingDrain',
            actions: [logSignal, 'setStopMode'],
          },
          { guard: 'isShutdownSignal', target: 'draining', actions: [logSignal, 'setStopMode'] },
        ],
        SCALE: [
          {
            guard: 'isValidScale',
            actions: [
              { type: 'log', params: ({ event }) => ({ level: 'info', message: `Scaling to ${event.workers} worker(s)` }) },
              { type: 'workersChanged', params: ({ context, event }) => ({ from: context.workers, to: event.workers }) },
              { type: 'setWorkers', params: ({ event }) => ({ workers: event.workers }) },
              'spawnWorkers', 'retireSurplus', 'notifyRetiring',
            ],
          },
          {
            actions: {
              type: 'log',
              params: ({ event }) => ({
                level: 'warning',
                message: `Not scaling to ${String(event.workers)} worker(s): the minimum is ${MIN_WORKERS} (WINCH stops them all but keeps the sockets)`,
              }),
            },
          },
        ],
      },
    },
    // Not ready any more, still serving with the workers there are (none new is started): a load
    // balancer's health check or Kubernetes' endpoints take this long to stop sending connections.
    delayingDrain: {
      entry: [
        'announceNotReady',
        {
          type: 'log',
          params: ({ context }) => ({ level: 'info', message: `Reporting not ready; draining in ${(context.drainDelayMs ?? 0) / 1000} s` }),
        },
      ],
      after: { drainDelay: 'draining' },
      // Nobody left to serve: nothing to wait for.
      always: { guard: 'noWorkersLeft', target: 'draining' },
      on: {
        'WORKER.EXITED': [
          { guard: 'isBootFailure', target: 'draining', actions: [finalExit, 'forgetWorker', 'halt'] },
          { actions: [finalExit, logExit, 'forgetWorker'] },
        ],
        'DIRTY.HALTED': { target: 'draining', actions: [logDirtyHalt, 'haltForDirtyPool'] },
        'WORKER.READY': { actions: ['markReady', 'retireOneRecycled', 'notifyRetiring'] },
        SIGNAL: [
          { guard: { type: 'isSignal', params: { signal: 'SIGUSR1' } }, actions: [logSignal, 'reopenOwnLogs', 'reopenWorkerLogs'] },
          // A second TERM cuts the delay short; INT or QUIT stop quickly.
          { guard: 'isShutdownSignal', target: 'draining', actions: [logSignal, 'setStopMode'] },
        ],
      },
    },
    draining: {
      entry: ['announceStopping', 'closeListeners', 'stopWorkers', 'notifyRetiring'],
      always: { guard: 'noWorkersLeft', target: 'dead' },
      on: {
        'WORKER.EXITED': { actions: [finalExit, logExit, 'forgetWorker'] },
        // The stop goes on as it is; the exit status says the dirty pool could not boot, unless a halt already
        // said why (a worker that could not boot): the first cause is the one reported.
        'DIRTY.HALTED': { guard: 'notHalted', actions: [logDirtyHalt, 'haltForDirtyPool'] },
        SIGNAL: [
          { guard: { type: 'isSignal', params: { signal: 'SIGUSR1' } }, actions: [logSignal, 'reopenOwnLogs', 'reopenWorkerLogs'] },
          // A second, quick signal during a graceful stop hurries it along.
          { guard: 'isQuickSignal', actions: [logSignal, 'setStopMode', 'stopWorkers', 'notifyRetiring'] },
        ],
      },
    },
    dead: { type: 'final' },
  },
  output: ({ context }) => ({ exitCode: context.exitCode, haltReason: context.haltReason }),
});
