// Runs the arbiter statechart with real effects: sockets, processes, signals, logs, hooks.
import { dirname } from 'node:path';
import { createActor, fromPromise, toPromise } from 'xstate';
import { type ArbiterSignal, WORKER_APP_LOAD_ERROR, arbiterMachine, isBootFailure } from '../../machines/arbiter.js';
import { type WorkerExit, workerHandleMachine } from '../../machines/worker-handle.js';
import type { Hooks } from '../config/hooks.js';
import type { Identity } from '../config/identity.js';
import { runHook } from '../config/run-hook.js';
import type { Settings } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { LogLevel, Logger } from '../log/logger.js';
import { startArbiterMetrics } from '../metrics/arbiter-metrics.js';
import type { WorkerReading } from '../metrics/pool-metrics.js';
import type { StatsdClient } from '../metrics/statsd.js';
import type { BoundListener } from '../sockets/listeners.js';
import { version } from '../version.js';
import { parseAppModule } from '../app/app-module.js';
import { resolveAppModule } from '../app/load-app.js';
import { connectionsOf, loadKind } from '../kinds/registry.js';
import { acquireListeners } from './acquire-listeners.js';
import { type ConnectionDispatcher, startDispatcher } from './connection-dispatcher.js';
import { preloadApp } from './preload-app.js';
import { startSuccession } from './succession.js';
import { createNotifier, monotonicMicroseconds } from './systemd-notify.js';
import { watchForReload } from './watch-for-reload.js';
import { workerProcessLogic } from './worker-process.js';

const HANDLED_SIGNALS: readonly ArbiterSignal[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH'];
/** gunicorn kills a worker this long after SIGABRT/SIGQUIT. */
const KILL_DELAY_MS = 1000;
/** A worker that dies within this long of becoming ready counts toward a crash loop. */
const SETTLE_MS = 5000;

export interface ArbiterOptions {
  settings: Settings;
  hooks: Hooks;
  configFile: string | undefined;
  appModule: string;
  cwd: string;
  logger: Logger;
  /** Where corral was started: an upgrade (USR2) starts the new arbiter from there. */
  launchDirectory: string;
  /** --user/--group for workers, resolved at start. */
  identity?: Identity;
  /** Re-reads settings and hooks from the same sources as at start (HUP). */
  reload: () => Promise<{ settings: Settings; hooks: Hooks }>;
  /** Where the arbiter's StatsD metrics go (the logger counts its lines into the same client). */
  statsd?: StatsdClient;
}

export async function runArbiter(options: ArbiterOptions): Promise<number> {
  const { configFile, appModule, cwd, logger, reload } = options;
  // Replaced by a reload; new workers get what is current when they spawn.
  let { settings, hooks } = options;
  logger.info(`Starting corral ${version}`);
  if (settings.preloadApp && !(await preloadApp(appModule, cwd, logger))) {
    logger.info('Shutting down: Master');
    return WORKER_APP_LOAD_ERROR;
  }
  await runHook(hooks, 'onStarting', logger, settings);
  // Scrapes read the worker handles; there are none until the actor exists.
  let liveWorkers = (): WorkerReading[] => [];
  const metrics = await startArbiterMetrics({ metricsBind: settings.metricsBind, statsd: options.statsd, logger, liveWorkers: () => liveWorkers() }).catch(
    (error: unknown) => {
      logger.error(describeError(error));
      return null;
    },
  );
  if (metrics === null) {
    logger.flush();
    return 1;
  }
  const succession = startSuccession({ pidfile: settings.pidfile, name: settings.procName ?? appModule, launchDirectory: options.launchDirectory, logger });
  const listeners: BoundListener[] = [];
  // A unix socket's file stays while another arbiter of an upgrade still serves on it.
  let dispatcher: ConnectionDispatcher | undefined;
  const closeListeners = () => {
    dispatcher?.close();
    const keepPath = succession.otherArbiterServes();
    listeners.forEach((listener) => listener.close({ keepPath }));
  };
  const systemd = createNotifier(process.env, logger);
  const log = (_: unknown, params: { level: Parameters<Logger['log']>[0]; message: string }) =>
    logger.log(params.level, params.message);

  const machine = arbiterMachine.provide({
    actors: {
      bindListeners: fromPromise(async () => {
        listeners.push(...(await acquireListeners(settings, succession.inherited, logger)));
        if (connectionsOf(await loadKind(settings.workerClass, cwd)) === 'dispatched') dispatcher = startDispatcher(listeners, settings.backlog, logger);
        for (const listener of listeners) logger.info(`Listening at: ${listener.url} (${process.pid})`);
        logger.info(`Using worker: ${settings.workerClass}`);
        return listeners.map((listener) => listener.url);
      }),
      reloadConfig: fromPromise(async () => {
        const next = await reload();
        if (JSON.stringify(next.settings.bind) !== JSON.stringify(settings.bind)) {
          logger.warning('Reload keeps the sockets already bound; a changed bind takes a restart.');
        }
        settings = { ...next.settings, bind: settings.bind };
        hooks = next.hooks;
        logger.level = settings.logLevel as LogLevel;
        await runHook(hooks, 'onReload', logger, settings);
        return { workers: settings.workers, timeoutMs: settings.timeout * 1000, gracefulTimeoutMs: settings.gracefulTimeout * 1000 };
      }),
      workerHandle: workerHandleMachine.provide({
        actors: {
          workerProcess: workerProcessLogic({
            listeners: () => listeners,
            logger,
            hooks: () => hooks,
            dispatcher: () => dispatcher,
            init: () => ({ appModule, cwd, kind: settings.workerClass, settings, configFile, identity: options.identity }),
          }),
        },
        actions: { log },
      }),
    },
    actions: {
      log,
      closeListeners,
      announceReady: () => {
        systemd.notify({ READY: 1, STATUS: `${settings.workers} worker(s) serving` });
        void runHook(hooks, 'whenReady', logger, settings);
      },
      announceReloading: () => systemd.notify({ RELOADING: 1, MONOTONIC_USEC: String(monotonicMicroseconds()), STATUS: 'reloading' }),
      announceReloaded: () => systemd.notify({ READY: 1, STATUS: `${settings.workers} worker(s) serving` }),
      announceStopping: () => systemd.notify({ STOPPING: 1, STATUS: 'stopping' }),
      workerExited: ({ self }, exit: WorkerExit) => {
        // Replaced, unless the arbiter is stopping or halting on a boot failure.
        metrics?.workerExited(exit, self.getSnapshot().matches('serving') && !isBootFailure(exit));
        void runHook(hooks, 'childExit', logger, { id: exit.id, pid: exit.pid, exitCode: exit.exitCode, signal: exit.signal });
      },
      reopenOwnLogs: () => logger.reopen(),
      startUpgrade: () => void succession.startUpgrade(listeners, () => runHook(hooks, 'preExec', logger, settings)),
      workersChanged: (_, change: { from: number; to: number }) => void runHook(hooks, 'nworkersChanged', logger, change.to, change.from),
    },
  });

  const actor = createActor(machine, {
    input: {
      workers: settings.workers,
      timeoutMs: settings.timeout * 1000,
      gracefulTimeoutMs: settings.gracefulTimeout * 1000,
      killDelayMs: KILL_DELAY_MS,
      settleMs: SETTLE_MS,
    },
  });
  liveWorkers = () => Object.values(actor.getSnapshot().context.workerRefs).map((ref) => ref.getSnapshot().context);
  if (metrics) actor.subscribe(() => metrics.poolChanged());
  const onSignal = (signal: ArbiterSignal) => actor.send({ type: 'SIGNAL', signal });
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  actor.start();
  const stopWatching = settings.reload
    ? watchForReload(
        [dirname(resolveAppModule(parseAppModule(appModule).module, cwd)), ...settings.reloadExtraFiles, ...(configFile ? [configFile] : [])],
        (file) => {
          logger.info(`${file} changed; reloading`);
          actor.send({ type: 'SIGNAL', signal: 'SIGHUP' });
        },
        logger,
      )
    : () => {};
  try {
    const output = await toPromise(actor);
    if (output.haltReason) logger.error(output.haltReason);
    await runHook(hooks, 'onExit', logger, settings);
    logger.info('Shutting down: Master');
    return output.exitCode;
  } finally {
    stopWatching();
    await metrics?.close();
    closeListeners();
    succession.end();
    logger.flush();
    for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
  }
}
