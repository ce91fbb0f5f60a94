// Runs the dirty pool's chart in the arbiter with real effects: the router's
// socket, the dirty processes, the log. The arbiter starts it before its workers
// (they find the router's socket in their environment) and stops it after them.
import { type Actor, type InspectionEvent, createActor, toPromise } from 'xstate';
import { type DirtyPoolOutput, callableIds, dirtyPoolMachine } from '../../machines/dirty-pool.js';
import { dirtyProcessMachine } from '../../machines/dirty-process.js';
import type { Identity } from '../config/identity.js';
import type { Settings } from '../config/schema.js';
import { parseSize } from '../config/size.js';
import { stateText } from '../inspector/statechart-model.js';
import type { Logger } from '../log/logger.js';
import { dirtyProcessLogic } from './dirty-process-logic.js';
import { DIRTY_MAX_MESSAGE_ENV, DIRTY_SOCKET_ENV } from './dirty-protocol.js';
import { type DirtyRouter, startDirtyRouter } from './dirty-router.js';

/** Between SIGQUIT and SIGKILL, as for workers. */
const KILL_DELAY_MS = 1000;

export interface DirtyProcessRow {
  id: string;
  pid: number | undefined;
  state: string;
  generation: number;
  ready: boolean;
  retiring: boolean;
  /** The function it runs now, if any. */
  running: string | undefined;
}

export interface DirtyStatus {
  state: string;
  module: string;
  workers: number;
  generation: number;
  queued: number;
  processes: DirtyProcessRow[];
  functions: Record<string, { calls: number; failures: number; timeouts: number; seconds: number }>;
}

export interface RunningDirtyPool {
  actor: Actor<typeof dirtyPoolMachine>;
  router: DirtyRouter;
  /** HUP: a new generation, rolling. */
  reload(workers: number): void;
  scale(workers: number): void;
  status(): DirtyStatus;
  prometheus(): string;
  /** Drains the processes (quick: at once) and closes the router; resolves when they are gone. */
  stop(quick: boolean): Promise<void>;
  /** The pool ended by itself: a dirty process could not boot. */
  halted: Promise<string>;
}

export interface DirtyPoolOptions {
  settings: () => Settings;
  cwd: string;
  logger: Logger;
  inspect?: (event: InspectionEvent) => void;
  /** --user/--group: the dirty processes become them, and the workers (as them) may use the router's socket. */
  identity?: Identity;
}

export async function startDirtyPool({ settings, cwd, logger, inspect, identity }: DirtyPoolOptions): Promise<RunningDirtyPool> {
  const initial = settings();
  const maxMessageBytes = parseSize(initial.dirtyMaxMessage) ?? 16 * 1024 * 1024;
  let actor: Actor<typeof dirtyPoolMachine> | undefined;
  const refOf = (id: string) => actor?.getSnapshot().context.processRefs[id];
  const router = await startDirtyRouter({
    logger,
    maxMessageBytes,
    owner: identity,
    queueLimit: () => settings().dirtyQueue,
    queueBytesLimit: () => parseSize(settings().dirtyQueueBytes) ?? Infinity,
    timeoutMs: () => settings().dirtyTimeout * 1000,
    pool: {
      callable: () => {
        const context = actor?.getSnapshot().context;
        return context ? callableIds(context) : [];
      },
      started: (id, callId, name, timeoutMs, limitMs) => refOf(id)?.send({ type: 'CALL.START', callId, name, timeoutMs, limitMs }),
      ended: (id, callId) => refOf(id)?.send({ type: 'CALL.END', callId }),
    },
  });
  // Every worker, and each of its threads, inherits where the router is.
  process.env[DIRTY_SOCKET_ENV] = router.socketPath;
  process.env[DIRTY_MAX_MESSAGE_ENV] = String(maxMessageBytes);
  const log = (_: unknown, params: { level: Parameters<Logger['log']>[0]; message: string }) => logger.log(params.level, params.message);
  const machine = dirtyPoolMachine.provide({
    actors: {
      dirtyProcess: dirtyProcessMachine.provide({
        actors: {
          dirtyProcess: dirtyProcessLogic({
            init: () => ({ module: settings().dirtyApp ?? initial.dirtyApp!, cwd, maxMessageBytes, identity, initgroups: settings().initgroups }),
            logger,
            pipes: router,
          }),
        },
        actions: { log },
      }),
    },
    actions: {
      log,
      processExited: (_, { exit }) => router.processExited(exit),
      workAvailable: () => router.dispatch(),
    },
  });
  const current = settings();
  actor = createActor(machine, {
    inspect,
    input: {
      workers: current.dirtyWorkers,
      bootTimeoutMs: current.timeout * 1000,
      gracefulTimeoutMs: current.gracefulTimeout * 1000,
      killDelayMs: KILL_DELAY_MS,
    },
  });
  const running = actor;
  const ended: Promise<DirtyPoolOutput> = toPromise(running).finally(() => router.close());
  running.start();
  logger.info(`Dirty pool: ${current.dirtyWorkers} process(es) of ${current.dirtyApp}, called through ${router.socketPath}`);
  let stopping = false;
  return {
    actor: running,
    router,
    reload: (workers) => running.send({ type: 'RELOAD', workers }),
    scale: (workers) => running.send({ type: 'SCALE', workers }),
    status() {
      const snapshot = running.getSnapshot();
      const { context } = snapshot;
      return {
        state: stateText(snapshot.value),
        module: settings().dirtyApp ?? initial.dirtyApp!,
        workers: context.workers,
        generation: context.generation,
        queued: router.queueLength(),
        processes: Object.entries(context.processRefs).map(([id, ref]) => {
          const handle = ref.getSnapshot();
          const info = context.processInfo[id];
          return {
            id,
            pid: handle.context.pid,
            state: stateText(handle.value),
            generation: info.generation,
            ready: info.ready,
            retiring: info.retiring,
            running: handle.context.call?.name,
          };
        }),
        functions: router.metrics.summary(),
      };
    },
    prometheus: () => router.metrics.prometheus(router.queueLength(), Object.keys(running.getSnapshot().context.processRefs).length),
    async stop(quick) {
      stopping = true;
      running.send({ type: 'STOP', quick });
      await ended;
    },
    halted: ended.then(
      (output) => (stopping || !output.haltReason ? new Promise<string>(() => {}) : output.haltReason),
      (error: unknown) => String(error),
    ),
  };
}
