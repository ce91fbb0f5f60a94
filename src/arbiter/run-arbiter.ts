// Runs the arbiter statechart with real effects: sockets, processes, signals, logs, hooks.
import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import { type Actor, type InspectionEvent, createActor, fromPromise, toPromise } from 'xstate';
import { type ArbiterEvent, type ArbiterSignal, type ReloadedSettings, WORKER_APP_LOAD_ERROR, arbiterMachine } from '../../machines/arbiter.js';
import { type RecycleCause, type WorkerExit, workerHandleMachine } from '../../machines/worker-handle.js';
import type { Hooks } from '../config/hooks.js';
import type { Identity } from '../config/identity.js';
import { runHook } from '../config/run-hook.js';
import type { Settings } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { LogLevel, Logger } from '../log/logger.js';
import { type ArbiterView, healthRoutes } from '../metrics/health-routes.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import { parseSize } from '../config/size.js';
import { PID1_WARNING } from '../init/pid1.js';
import type { WorkerReading } from '../metrics/pool-metrics.js';
import type { StatsdClient } from '../metrics/statsd.js';
import type { BoundListener } from '../sockets/listeners.js';
import { version } from '../version.js';
import { stateText } from '../inspector/statechart-model.js';
import { parseAppModule } from '../app/app-module.js';
import { resolveAppModule } from '../app/load-app.js';
import { acquireListeners } from './acquire-listeners.js';
import { type ConnectionStrategy, checkSameConnectionStrategy, connectionStrategyFor } from './connection-strategy.js';
import type { RefusedConnections } from './connection-dispatcher.js';
import { tlsServerOptions } from '../http/tls-options.js';
import { servesHttp2 } from '../http/http-protocols.js';
import { kindServesHttp2 } from '../kinds/registry.js';
import { preloadApp } from './preload-app.js';
import { startOrphanSentinel } from './orphan-sentinel.js';
import { startSuccession } from './succession.js';
import { sharesSockets } from '../../machines/succession.js';
import { createNotifier, monotonicMicroseconds } from './systemd-notify.js';
import { watchForReload } from './watch-for-reload.js';
import { workerProcessLogic } from './worker-process.js';
import type { RunningDirtyPool } from '../dirty/start-dirty-pool.js';
import { warnOfDirtyRestartSettings } from '../dirty/dirty-reload.js';

const HANDLED_SIGNALS: readonly ArbiterSignal[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH'];
/** gunicorn kills a worker this long after SIGABRT/SIGQUIT. */
const KILL_DELAY_MS = 1000;
/** A worker that dies within this long of becoming ready counts toward a crash loop. */
const SETTLE_MS = 5000;
/** How long a stopping arbiter waits for its last log lines to be taken. */
const LOG_DRAIN_MS = 1000;

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
  /** Turn this process's signals into events (the CLI). Embedding code sends the events itself. */
  handleSignals?: boolean;
  /** XState's inspection hook for the arbiter's actor system (the inspector's live feed). */
  inspect?: (event: InspectionEvent) => void;
}

/** What the running arbiter tells the code that started it. */
export interface ArbiterNotices {
  ready: [urls: string[]];
  reloaded: [outcome: { ok: boolean; reason?: string }];
  workerExit: [exit: WorkerExit];
  workersChanged: [change: { from: number; to: number }];
  /** The chart has ended; cleanup follows, then `exit` resolves. */
  stopped: [outcome: { exitCode: number; haltReason?: string }];
}

export interface RunningArbiter {
  /** undefined when the arbiter stopped before its chart started (a failed --preload, a metrics port in use). */
  actor: Actor<typeof arbiterMachine> | undefined;
  send(event: ArbiterEvent): void;
  notices: EventEmitter<ArbiterNotices>;
  /** The exit status, once the arbiter has stopped and cleaned up. */
  exit: Promise<number>;
  /** Connections the arbiter itself closed unserved (dispatching kinds); undefined when it accepts none. */
  refusedConnections(): RefusedConnections | undefined;
  /** The dirty pool, with --dirty-app. */
  dirty?: RunningDirtyPool;
}

/** The settings the arbiter's chart holds, read at start and again by each reload (HUP). */
function chartSettings(settings: Settings): ReloadedSettings {
  return {
    workers: settings.workers,
    timeoutMs: settings.timeout * 1000,
    gracefulTimeoutMs: settings.gracefulTimeout * 1000,
    drainDelayMs: settings.drainDelay * 1000,
    // 0: no limit (a reload that drops --max-memory lifts it from the new workers).
    maxMemoryBytes: (settings.maxMemory ? parseSize(settings.maxMemory) : undefined) ?? 0,
  };
}

function warnOfIgnoredRequestTimeout(settings: Settings, logger: Logger): void {
  if (settings.requestTimeout > 0 && settings.workerClass !== 'async') {
    logger.warning(`--request-timeout applies to the async kind only; -k ${settings.workerClass} ignores it (--timeout still replaces a worker whose event loop is blocked).`);
  }
}

function stoppedEarly(notices: EventEmitter<ArbiterNotices>, exitCode: number, haltReason: string): RunningArbiter {
  // After the caller has had a chance to listen.
  setImmediate(() => notices.emit('stopped', { exitCode, haltReason }));
  return { actor: undefined, send: () => {}, notices, exit: Promise.resolve(exitCode), refusedConnections: () => undefined };
}

export async function startArbiter(options: ArbiterOptions): Promise<RunningArbiter> {
  const { configFile, appModule, cwd, logger, reload } = options;
  // Replaced by a reload; new workers get what is current when they spawn.
  let { settings, hooks } = options;
  logger.info(`Starting corral ${version}`);
  if (process.pid === 1) logger.warning(PID1_WARNING);
  warnOfIgnoredRequestTimeout(settings, logger);
  const notices = new EventEmitter<ArbiterNotices>();
  if (settings.preloadApp && !(await preloadApp(appModule, cwd, logger))) {
    logger.info('Shutting down: Master');
    await logger.drain(LOG_DRAIN_MS);
    return stoppedEarly(notices, WORKER_APP_LOAD_ERROR, 'the app failed to load in the arbiter (--preload); the log says why');
  }
  await runHook(hooks, 'onStarting', logger, settings);
  let dirtyPool: RunningDirtyPool | undefined;
  // Scrapes read the worker handles; there are none until the actor exists.
  let liveWorkers = (): WorkerReading[] => [];
  // Health checks read the chart's snapshot; until it exists the arbiter is booting.
  let arbiterView = (): ArbiterView | undefined => undefined;
  const health = healthRoutes(() => arbiterView());
  // Loaded only when there is a metrics endpoint or StatsD to feed.
  const startMetrics = async () => {
    if (!settings.metricsBind && !options.statsd) return undefined;
    const { startArbiterMetrics } = await import('../metrics/arbiter-metrics.js');
    return startArbiterMetrics({
      metricsBind: settings.metricsBind,
      statsd: options.statsd,
      logger,
      liveWorkers: () => liveWorkers(),
      refusedConnections: () => connections?.refused(),
      extraMetrics: () => dirtyPool?.prometheus() ?? '',
      extraRoutes: settings.healthBind ? undefined : health,
    });
  };
  const metrics = await startMetrics().catch((error: unknown) => {
    logger.error(describeError(error));
    return null;
  });
  if (metrics === null) {
    await logger.drain(LOG_DRAIN_MS);
    return stoppedEarly(notices, 1, 'the metrics endpoint could not start; the log says why');
  }
  let healthServer: MetricsServer | undefined;
  if (settings.healthBind) {
    const { parseHealthBind, startMetricsServer } = await import('../metrics/metrics-server.js');
    healthServer = await startMetricsServer(settings.healthBind, health, logger, 'health checks', parseHealthBind).catch((error: unknown) => {
      logger.error(describeError(error));
      return undefined;
    });
    if (!healthServer) {
      await metrics?.close();
      await logger.drain(LOG_DRAIN_MS);
      return stoppedEarly(notices, 1, 'the health endpoint could not start; the log says why');
    }
    logger.info(`Answering health checks at: ${healthServer.url} (${Object.keys(health).join(', ')})`);
  }
  // Before the workers: they find the dirty router's socket in the environment they inherit
  // (and none from an arbiter this one was upgraded from, when it has no pool of its own).
  delete process.env.CORRAL_DIRTY_SOCKET;
  if (settings.dirtyApp) {
    const { startDirtyPool } = await import('../dirty/start-dirty-pool.js');
    dirtyPool = await startDirtyPool({ settings: () => settings, cwd, logger, inspect: options.inspect, identity: options.identity }).catch((error: unknown) => {
      logger.error(`The dirty pool could not start: ${describeError(error)}`);
      return undefined;
    });
    if (!dirtyPool) {
      await metrics?.close();
      await healthServer?.close();
      await logger.drain(LOG_DRAIN_MS);
      return stoppedEarly(notices, 1, 'the dirty pool could not start; the log says why');
    }
  }
  const listeners: BoundListener[] = [];
  const succession = startSuccession({
    pidfile: settings.pidfile,
    name: settings.procName ?? appModule,
    launchDirectory: options.launchDirectory,
    logger,
    listeners: () => listeners,
    beforeSpawn: () => runHook(hooks, 'preExec', logger, settings),
  });
  let connections: ConnectionStrategy | undefined;
  // A unix socket's file stays while another arbiter of an upgrade still serves on it (the succession chart knows).
  let successionState: (() => Parameters<typeof sharesSockets>[0] | undefined) = () => undefined;
  const closeListeners = () => {
    const state = successionState();
    const keepPath = state !== undefined && sharesSockets(state);
    // What waits on a socket no other arbiter serves on is answered 503 (a dispatching strategy's part).
    connections?.close({ answerBacklog: !keepPath });
    listeners.forEach((listener) => listener.close({ keepPath }));
  };
  const systemd = createNotifier(process.env, logger);
  const sentinel = startOrphanSentinel(logger);
  const log = (_: unknown, params: { level: Parameters<Logger['log']>[0]; message: string }) =>
    logger.log(params.level, params.message);

  const machine = arbiterMachine.provide({
    actors: {
      bindListeners: fromPromise(async () => {
        listeners.push(...(await acquireListeners(settings, succession.inherited, logger)));
        connections = await connectionStrategyFor(settings.workerClass, cwd, { listeners, backlog: settings.backlog, headerTimeoutMs: settings.headerTimeout * 1000, logger });
        // As gunicorn does: the scheme says whether the socket speaks TLS.
        const shown = (url: string) => (settings.certfile ? url.replace(/^http:/, 'https:') : url);
        for (const listener of listeners) logger.info(`Listening at: ${shown(listener.url)} (${process.pid})`);
        logger.info(`Using worker: ${settings.workerClass}`);
        if (servesHttp2(settings.httpProtocols) && !(await kindServesHttp2(settings.workerClass, cwd))) {
          logger.warning(`--http-protocols ${settings.httpProtocols.join(',')}: the ${settings.workerClass} kind serves HTTP/1.x only (one request at a time per connection); every connection is served in HTTP/1.1 and TLS offers http/1.1 alone. Use -k async or -k thread for HTTP/2.`);
        }
        return listeners.map((listener) => listener.url);
      }),
      reloadConfig: fromPromise(async () => {
        const next = await reload();
        // A certificate that cannot be read fails the reload here, not every new worker.
        tlsServerOptions(next.settings);
        // So does a setting the chart cannot take, before anything of the new config is applied.
        const chart = chartSettings(next.settings);
        await checkSameConnectionStrategy(settings.workerClass, next.settings.workerClass, cwd);
        if (JSON.stringify(next.settings.bind) !== JSON.stringify(settings.bind)) {
          logger.warning('Reload keeps the sockets already bound; a changed bind takes a restart.');
        }
        if (next.settings.requestTimeout !== settings.requestTimeout) warnOfIgnoredRequestTimeout(next.settings, logger);
        warnOfDirtyRestartSettings(settings, next.settings, logger);
        settings = { ...next.settings, bind: settings.bind };
        hooks = next.hooks;
        logger.level = settings.logLevel as LogLevel;
        await runHook(hooks, 'onReload', logger, settings);
        return chart;
      }),
      succession: succession.logic,
      workerHandle: workerHandleMachine.provide({
        actors: {
          workerProcess: workerProcessLogic({
            listeners: () => listeners,
            logger,
            hooks: () => hooks,
            connections: () => connections!,
            sentinel,
            init: () => ({ appModule, cwd, kind: settings.workerClass, settings, configFile, identity: options.identity }),
          }),
        },
        actions: { log },
      }),
    },
    actions: {
      log,
      closeListeners,
      announceReady: ({ context }) => {
        systemd.notify({ READY: 1, STATUS: `${settings.workers} worker(s) serving` });
        void runHook(hooks, 'whenReady', logger, settings);
        notices.emit('ready', context.listeners);
      },
      reloadFinished: (_, outcome: { ok: boolean; reason?: string }) => void notices.emit('reloaded', outcome),
      announceReloading: () => systemd.notify({ RELOADING: 1, MONOTONIC_USEC: String(monotonicMicroseconds()), STATUS: 'reloading' }),
      announceReloaded: () => systemd.notify({ READY: 1, STATUS: `${settings.workers} worker(s) serving` }),
      // New dirty processes load the module as it is now; a pool turned off by the new config keeps its module (see dirty-reload.ts).
      rollDirtyPool: () => dirtyPool?.reload(settings.dirtyWorkers),
      announceStopping: () => systemd.notify({ STOPPING: 1, STATUS: 'stopping' }),
      announceNotReady: () => systemd.notify({ STATUS: 'not ready; draining soon' }),
      workerRecycling: (_, { cause }: { cause: RecycleCause }) => metrics?.workerRecycling(cause),
      workerExited: (_, { exit, replaced }: { exit: WorkerExit; replaced: boolean }) => {
        metrics?.workerExited(exit, replaced);
        void runHook(hooks, 'childExit', logger, { id: exit.id, pid: exit.pid, exitCode: exit.exitCode, signal: exit.signal });
        notices.emit('workerExit', exit);
      },
      reopenOwnLogs: () => logger.reopen(),
      workersChanged: (_, change: { from: number; to: number }) => {
        void runHook(hooks, 'nworkersChanged', logger, change.to, change.from);
        notices.emit('workersChanged', change);
      },
    },
  });

  const actor = createActor(machine, {
    inspect: options.inspect,
    input: {
      ...chartSettings(settings),
      killDelayMs: KILL_DELAY_MS,
      settleMs: SETTLE_MS,
      predecessorPid: succession.inherited?.parentPid,
      attachedToTerminal: options.handleSignals === true && Boolean(process.stdout.isTTY || process.stderr.isTTY),
    },
  });

  liveWorkers = () => Object.values(actor.getSnapshot().context.workerRefs).map((ref) => ref.getSnapshot().context);
  arbiterView = () => actor.getSnapshot();
  if (metrics) actor.subscribe(() => metrics.poolChanged());
  // The chart decides what a signal means in each state; a signal it does not take there is said, never lost silently.
  const onSignal = (signal: ArbiterSignal) => {
    const event = { type: 'SIGNAL' as const, signal };
    const snapshot = actor.getSnapshot();
    if (snapshot.status === 'active' && !snapshot.can(event)) {
      logger.info(`Ignoring signal: ${signal.replace(/^SIG/, '').toLowerCase()} (already ${stateText(snapshot.value)})`);
    }
    actor.send(event);
  };
  if (options.handleSignals) for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  // A dirty process that cannot boot: the chart halts the server (see DIRTY.HALTED).
  void dirtyPool?.halted.then((reason) => actor.send({ type: 'DIRTY.HALTED', reason }));
  actor.start();
  // Kept: once the chart has ended its children are gone from its snapshot, and the last word counts.
  const successionActor = actor.getSnapshot().children.succession;
  successionState = () => successionActor?.getSnapshot();
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
  const exit = (async () => {
    try {
      const output = await toPromise(actor);
      // The workers are gone: nothing calls the dirty pool any more.
      await dirtyPool?.stop(actor.getSnapshot().context.stopMode === 'quick');
      // The process that failed has logged its error with the stack; the reason
      // repeats its first line only, as gunicorn's "Reason:" line does.
      if (output.haltReason) logger.error(output.haltReason.split('\n', 1)[0]);
      notices.emit('stopped', { exitCode: output.exitCode, haltReason: output.haltReason });
      await runHook(hooks, 'onExit', logger, settings);
      logger.info('Shutting down: Master');
      return output.exitCode;
    } finally {
      stopWatching();
      await metrics?.close();
      await healthServer?.close();
      closeListeners();
      succession.end();
      await sentinel?.close();
      // The last lines, unless stderr's reader has stalled: a stop must end even then.
      await logger.drain(LOG_DRAIN_MS);
      logger.flush();
      for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
    }
  })();
  return { actor, send: (event) => actor.send(event), notices, exit, refusedConnections: () => connections?.refused(), dirty: dirtyPool };
}
