// Runs the worker statechart with real effects: the app loader, the kind, IPC
// reports, logs, and the hooks that run in workers.
import type { Socket } from 'node:net';
import { type Actor, createActor, fromPromise, toPromise } from 'xstate';
import { EXIT_BOOT_ERROR, type WorkerEvent, workerMachine } from '../../machines/worker.js';
import { loadApp } from '../app/load-app.js';
import { loadConfigFile } from '../config/config-file.js';
import type { ServerOptions as TlsServerOptions } from 'node:https';
import type { Hooks } from '../config/hooks.js';
import { tlsServerOptions } from '../http/tls-options.js';
import { withDeadlines, workerBootDeadline } from '../config/hook-deadline.js';
import { hookFailureMessage, runHook, runHookSync } from '../config/run-hook.js';
import { describeError } from '../errors.js';
import type { Channel } from '../ipc/channel.js';
import type { WorkerInit, WorkerToArbiter } from '../ipc/protocol.js';
import type { RequestCounters, RequestObserver } from '../kinds/contract.js';
import { connectionsOf, loadKind } from '../kinds/registry.js';
import { dispatchedConnections } from './dispatched-connections.js';
import { type AccessLog, createAccessLog } from '../log/access-log.js';
import { type LogLevel, type Logger, createLogger } from '../log/logger.js';
import { type WorkerMetrics, createWorkerMetrics } from '../metrics/worker-metrics.js';
import { captureOutput } from './capture-output.js';
import { maxRequestsObserver } from './max-requests.js';
import { dropPrivileges } from './drop-privileges.js';

/** Frequent enough that a few can be missed before the timeout fires. */
const heartbeatInterval = (timeoutMs: number) => (timeoutMs > 0 ? Math.max(50, Math.min(1000, timeoutMs / 4)) : 1000);

/** Waits (briefly) for queued reports to reach the arbiter before the process exits. */
const flush = (pipe: Socket) =>
  new Promise<void>((resolve) => {
    if (pipe.destroyed || pipe.writableLength === 0) return resolve();
    pipe.once('drain', resolve);
    setTimeout(resolve, 500).unref();
  });

export type WorkerSignal = 'SIGTERM' | 'SIGINT' | 'SIGQUIT' | 'SIGUSR1' | 'SIGABRT';

export interface RunningWorker {
  send(event: WorkerEvent): void;
  signal(signal: WorkerSignal): void;
}

/** What hooks receive as `worker`. */
export interface WorkerInfo {
  id: string;
  pid: number;
  settings: WorkerInit['settings'];
}

export interface WorkerContext {
  init: WorkerInit;
  channel: Channel<WorkerToArbiter>;
  logger: Logger;
  hooks: Hooks;
  info: WorkerInfo;
  /** Everything that must reopen its files on USR1. */
  reopeners: (() => void)[];
  accessLog: AccessLog | undefined;
  /** StatsD and Prometheus measurements; undefined, and free, when both are off. */
  metrics: WorkerMetrics | undefined;
  /** Sent on the way out, so the arbiter's totals include every request this worker served. */
  lastHeartbeat: () => void;
  /** From --certfile/--keyfile…, read as the worker starts; the sslContext hook has not run on it yet. */
  tls?: TlsServerOptions;
}

function requestHookObserver({ hooks, logger, info }: WorkerContext): RequestObserver | undefined {
  if (!hooks.preRequest && !hooks.postRequest) return undefined;
  return {
    started: hooks.preRequest ? (req) => runHookSync(hooks, 'preRequest', logger, info, req) : undefined,
    finished: hooks.postRequest ? (req, res) => runHookSync(hooks, 'postRequest', logger, info, req, res) : undefined,
  };
}

/** The https options this worker serves with, as the sslContext hook leaves them; a hook that fails leaves them as they were. */
async function serverTlsOptions({ tls, hooks, logger, info }: WorkerContext): Promise<TlsServerOptions | undefined> {
  if (!tls || !hooks.sslContext) return tls;
  try {
    // A copy: a hook that changes some options and then throws leaves the settings' own intact.
    const options = { ...tls };
    const changed = await (hooks.sslContext as (worker: unknown, options: TlsServerOptions) => unknown)(info, options);
    return changed && typeof changed === 'object' ? (changed as TlsServerOptions) : options;
  } catch (error) {
    logger.error(hookFailureMessage('sslContext', error));
    return tls;
  }
}

export async function createWorkerActor(context: WorkerContext) {
  const { init, channel, logger, hooks, info } = context;
  const tls = await serverTlsOptions(context);
  const counters: RequestCounters = { inFlight: 0, served: 0 };
  const heartbeatMs = heartbeatInterval(init.settings.timeout * 1000);
  let lastBeat = performance.now();
  const kind = await loadKind(init.kind, init.cwd);
  const heartbeat = (lagMs: number) => ({ type: 'heartbeat' as const, ...counters, lagMs, rss: process.memoryUsage.rss(), ...context.metrics?.report() });
  context.lastHeartbeat = () => channel.send(heartbeat(0));
  const recycle = maxRequestsObserver(init.settings, counters, (limit) => {
    logger.info(`Worker (pid: ${process.pid}) served ${counters.served} requests (max ${limit}); asking to be replaced`);
    channel.send({ type: 'recycle', reason: `served ${counters.served} requests (max ${limit})` });
  });
  const observers = [context.accessLog?.observer, requestHookObserver(context), recycle, ...(context.metrics?.observers ?? [])].filter((observer): observer is RequestObserver => observer !== undefined);

  const machine = workerMachine.provide({
    actors: {
      loadApp: fromPromise<unknown>(async () => {
        await runHook(hooks, 'postFork', logger, info);
        const app = await loadApp(init.appModule, init.cwd);
        await runHook(hooks, 'postWorkerInit', logger, info);
        return app;
      }),
      kind: kind.create({
        appModule: init.appModule,
        cwd: init.cwd,
        listeners: init.listeners,
        settings: init.settings,
        counters,
        logger,
        observers,
        dispatch: connectionsOf(kind) === 'dispatched' ? dispatchedConnections() : undefined,
        tls,
      }),
    },
    actions: {
      reportBooted: () => channel.send({ type: 'booted' }),
      reportReady: () => {
        lastBeat = performance.now();
        channel.send({ type: 'ready' });
      },
      reportBootFailure: (_, failure) => {
        logger.error(`Worker failed to boot: ${failure.message}`);
        channel.send({ type: 'bootFailed', code: failure.code, message: failure.message });
      },
      sendHeartbeat: () => {
        const now = performance.now();
        const lagMs = Math.max(0, now - lastBeat - heartbeatMs);
        lastBeat = now;
        channel.send(heartbeat(lagMs));
      },
    },
  });
  return createActor(machine, { input: { heartbeatMs, gracefulTimeoutMs: init.settings.gracefulTimeout * 1000 } });
}

/** Everything a worker runs with, reporting on `channel`. */
export function createWorkerContext(init: WorkerInit, channel: Channel<WorkerToArbiter>): WorkerContext {
  const { settings } = init;
  const metrics = createWorkerMetrics(settings);
  const logger = createLogger({
    level: settings.logLevel as LogLevel,
    format: settings.logFormat as 'text' | 'json',
    path: settings.errorlog,
    onLine: metrics?.onLogLine,
    onDropped: metrics?.onLogDropped,
  });
  const context: WorkerContext = {
    init,
    channel,
    logger,
    hooks: {},
    info: { id: init.workerId, pid: process.pid, settings },
    reopeners: [() => logger.reopen()],
    accessLog: createAccessLog(settings, { logger, onDropped: metrics?.onLogDropped }),
    metrics,
    lastHeartbeat: () => {},
  };
  if (context.accessLog) context.reopeners.push(context.accessLog.reopen);
  return context;
}

/** Boots the worker; returns a way to send it events and signals. */
export function runWorker(init: WorkerInit, channel: Channel<WorkerToArbiter>, pipe: Socket): RunningWorker {
  const { settings } = init;
  const context = createWorkerContext(init, channel);
  const { logger } = context;
  process.title = `corral: worker [${settings.procName ?? init.appModule}]`;
  if (settings.captureOutput && settings.errorlog !== '-') {
    context.reopeners.push(captureOutput(settings.errorlog, { onDropped: context.metrics?.onLogDropped, tellDrops: (message) => logger.error(message) }));
  }

  const exit = async (code: number) => {
    await runHook(context.hooks, 'workerExit', logger, context.info);
    logger.info(`Worker exiting (pid: ${process.pid})`);
    logger.flush();
    await context.accessLog?.close();
    context.lastHeartbeat();
    await context.metrics?.close();
    await flush(pipe);
    process.exit(code);
  };

  const started: Promise<Actor<typeof workerMachine>> = (async () => {
    // Read before dropping privileges: a private key is usually readable by root alone.
    context.tls = tlsServerOptions(settings);
    if (init.identity) dropPrivileges(init.identity, settings.initgroups);
    // Bounded as the boot hooks are: a config file that hangs only here fails the boot instead of timing it out.
    if (init.configFile) context.hooks = withDeadlines((await loadConfigFile(init.configFile, { deadlineSeconds: workerBootDeadline(settings) })).hooks, settings);
    const actor = await createWorkerActor(context);
    process.on('uncaughtException', (error) => {
      logger.error(`Uncaught exception in worker (pid: ${process.pid}): ${error.stack ?? error.message}`);
      actor.send({ type: 'CRASHED', message: error.message });
    });
    actor.start();
    return actor;
  })();
  started
    .then((actor) => toPromise(actor))
    .then((output) => exit(output.exitCode))
    .catch((error: unknown) => {
      const message = `worker could not start (kind '${init.kind}'): ${describeError(error)}`;
      logger.error(`Worker failed to boot: ${message}`);
      channel.send({ type: 'bootFailed', code: EXIT_BOOT_ERROR, message });
      return exit(EXIT_BOOT_ERROR);
    });

  const send = (event: WorkerEvent) => void started.then((actor) => actor.send(event), () => {});
  return {
    send,
    signal(signal) {
      switch (signal) {
        case 'SIGTERM':
          return send({ type: 'DRAIN' });
        case 'SIGINT':
        case 'SIGQUIT':
          runHookSync(context.hooks, 'workerInt', logger, context.info);
          return send({ type: 'STOP' });
        case 'SIGUSR1':
          logger.info('Reopening log files');
          return context.reopeners.forEach((reopen) => reopen());
        case 'SIGABRT':
          // Sent for missing the timeout: if the loop can still run this, say so and go.
          runHookSync(context.hooks, 'workerAbort', logger, context.info);
          logger.critical(`Worker aborted (pid: ${process.pid}): no heartbeat within the timeout`);
          logger.flush();
          context.accessLog?.flush();
          process.exit(1);
      }
    },
  };
}
