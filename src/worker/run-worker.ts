// Runs the worker statechart with real effects: the app loader, the kind, IPC
// reports, logs, and the hooks that run in workers.
import type { Socket } from 'node:net';
import { type Actor, createActor, fromPromise, toPromise } from 'xstate';
import { EXIT_BOOT_ERROR, EXIT_CRASHED, type WorkerEvent, guardEffects, workerMachine } from '../../machines/worker.js';
import { loadApp } from '../app/load-app.js';
import type { ServerOptions as TlsServerOptions } from 'node:https';
import type { HookWorker, Hooks } from '../config/hooks.js';
import { tlsServerOptions } from '../http/tls-options.js';
import { withDeadlines, workerBootDeadline } from '../config/hook-deadline.js';
import { hookFailureMessage, runHook, runHookSync } from '../config/run-hook.js';
import { describeError } from '../errors.js';
import type { Channel } from '../ipc/channel.js';
import type { WorkerInit, WorkerToArbiter } from '../ipc/protocol.js';
import type { RequestCounters, RequestObserver } from '../kinds/contract.js';
import { connectionsOf, loadKind, takesDispatch } from '../kinds/registry.js';
import { dispatchedConnections } from './dispatched-connections.js';
import type { AccessLog } from '../log/access-log.js';
import { type LogFormat, type LogLevel, type Logger, createLogger } from '../log/logger.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { maxRequestsObserver } from './max-requests.js';
import { dropPrivileges } from './drop-privileges.js';
import { connectionBudget, softFileLimit } from './connection-budget.js';
import { residentMemory } from './resident-memory.js';
import { watchStrayListeners } from './stray-listeners.js';
import { monotonicMs } from '../monotonic-ms.js';

/** Frequent enough that a few can be missed before the timeout fires. */
const heartbeatInterval = (timeoutMs: number) => (timeoutMs > 0 ? Math.max(50, Math.min(1000, timeoutMs / 4)) : 1000);

/** The way out (hook, logs, last heartbeat) is bounded: a worker whose chart is dead leaves, whatever hangs. */
const EXIT_DEADLINE_MS = 10_000;
/** How long a leaving worker waits for its last log lines to be taken. */
const LOG_DRAIN_MS = 1000;
/** A failing effect is logged at most this often (per effect), with how many failures the line stands for. */
const EFFECT_FAILURE_LOG_MS = 10_000;

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
export type WorkerInfo = HookWorker;

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
  /** Set once the worker reported ready: from then on nothing it does is a boot failure. */
  booted: boolean;
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
    const changed: unknown = await hooks.sslContext(info, options);
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
  let lastBeat = monotonicMs();
  const kind = await loadKind(init.kind, init.cwd);
  const rss = residentMemory();
  const cpuMicros = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  const heartbeat = (lagMs: number) => ({ type: 'heartbeat' as const, ...counters, lagMs, rss: rss(), cpuMicros: cpuMicros(), ...context.metrics?.report() });
  context.lastHeartbeat = () => channel.send(heartbeat(0));
  const budget = connectionBudget(init.settings.workerConnections, softFileLimit());
  if (budget.capped) logger.warning(`Worker (pid: ${process.pid}): ${budget.capped}`);
  const settings = { ...init.settings, workerConnections: budget.connections };
  const effectFailures = new Map<string, { loggedAt: number; unlogged: number }>();
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
        settings,
        counters,
        logger,
        observers,
        dispatch: takesDispatch(kind) ? dispatchedConnections({ idleAccept: connectionsOf(kind) === 'idle-accept', backlog: settings.backlog }) : undefined,
        tls,
      }),
    },
    actions: guardEffects({
      reportBooted: () => channel.send({ type: 'booted' }),
      reportReady: () => {
        context.booted = true;
        lastBeat = monotonicMs();
        channel.send({ type: 'ready' });
      },
      reportBootFailure: (_, failure: { code: number; message: string }) => {
        logger.error(`Worker failed to boot: ${failure.message}`);
        channel.send({ type: 'bootFailed', code: failure.code, message: failure.message });
      },
      sendHeartbeat: () => {
        const now = monotonicMs();
        const lagMs = Math.max(0, now - lastBeat - heartbeatMs);
        lastBeat = now;
        channel.send(heartbeat(lagMs));
      },
      reportAborted: () => {
        logger.critical(`Worker aborted (pid: ${process.pid}): no heartbeat within the timeout`);
        logger.flush();
        context.accessLog?.flush();
      },
      reportEffectFailure: (_, failure: { effect: string; message: string }) => {
        const seen = effectFailures.get(failure.effect) ?? { loggedAt: -Infinity, unlogged: 0 };
        effectFailures.set(failure.effect, seen);
        seen.unlogged += 1;
        if (monotonicMs() - seen.loggedAt < EFFECT_FAILURE_LOG_MS) return;
        const times = seen.unlogged === 1 ? '' : ` (${seen.unlogged} times since the last report)`;
        logger.error(`Worker (pid: ${process.pid}) could not ${failure.effect}${times}: ${failure.message}; carrying on`);
        seen.loggedAt = monotonicMs();
        seen.unlogged = 0;
      },
    }),
  });
  return createActor(machine, { input: { heartbeatMs, gracefulTimeoutMs: init.settings.gracefulTimeout * 1000 } });
}

/** Everything a worker runs with, reporting on `channel`. The metrics' and the access log's modules load only when the settings ask for them. */
export async function createWorkerContext(init: WorkerInit, channel: Channel<WorkerToArbiter>): Promise<WorkerContext> {
  const { settings } = init;
  const metrics = settings.statsdHost || settings.metricsBind || settings.inspector ? (await import('../metrics/worker-metrics.js')).createWorkerMetrics(settings) : undefined;
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
    accessLog: settings.accesslog === null ? undefined : (await import('../log/access-log.js')).createAccessLog(settings, { logger, onDropped: metrics?.onLogDropped }),
    metrics,
    lastHeartbeat: () => {},
    booted: false,
  };
  if (context.accessLog) context.reopeners.push(context.accessLog.reopen);
  return context;
}

/** Boots the worker; resolves, once its logs are open, with a way to send it events and signals. */
export async function runWorker(init: WorkerInit, channel: Channel<WorkerToArbiter>, pipe: Socket): Promise<RunningWorker> {
  const { settings } = init;
  const context = await createWorkerContext(init, channel);
  const { logger } = context;
  process.title = `corral: worker [${settings.procName ?? init.appModule}]`;
  // Before the app is imported: an app that listens itself does so as it loads.
  watchStrayListeners(logger);
  // Into a file, as gunicorn does; into stderr ('-') too with JSON, where the app's raw lines would break the JSON stream.
  if (settings.captureOutput && (settings.errorlog !== '-' || settings.logFormat === 'json')) {
    const { captureOutput } = await import('./capture-output.js');
    const drops = { onDropped: context.metrics?.onLogDropped, tellDrops: (message: string) => logger.error(message) };
    context.reopeners.push(captureOutput(settings.errorlog, { format: settings.logFormat as LogFormat, ...drops }));
  }

  // Each step of the way out may throw or hang (a hook, EMFILE, a full disk); none may keep the worker here.
  const attempt = async (step: () => unknown) => {
    try {
      await step();
    } catch (error) {
      try {
        logger.error(`Worker (pid: ${process.pid}) on its way out: ${describeError(error)}`);
      } catch {
        // nowhere left to say it
      }
    }
  };
  const exit = async (code: number) => {
    process.exitCode = code;
    // Not unref'd: it must fire even if every handle the app left open closes meanwhile and a step hangs.
    setTimeout(() => process.exit(code), EXIT_DEADLINE_MS);
    await attempt(() => runHook(context.hooks, 'workerExit', logger, context.info));
    await attempt(async () => {
      logger.info(`Worker exiting (pid: ${process.pid})`);
      await logger.drain(LOG_DRAIN_MS);
      logger.flush();
    });
    await attempt(() => context.accessLog?.close());
    await attempt(() => context.lastHeartbeat());
    await attempt(() => context.metrics?.close());
    await attempt(() => flush(pipe));
    process.exit(code);
  };

  const started: Promise<Actor<typeof workerMachine>> = (async () => {
    // Read before dropping privileges: a private key is usually readable by root alone.
    context.tls = tlsServerOptions(settings);
    if (init.identity) dropPrivileges(init.identity, settings.initgroups);
    // Bounded as the boot hooks are: a config file that hangs only here fails the boot instead of timing it out.
    if (init.configFile) {
      const { loadConfigFile } = await import('../config/config-file.js');
      context.hooks = withDeadlines((await loadConfigFile(init.configFile, { deadlineSeconds: workerBootDeadline(settings) })).hooks, settings);
    }
    const actor = await createWorkerActor(context);
    process.on('uncaughtException', (error) => {
      logger.error(`Uncaught exception in worker (pid: ${process.pid}): ${error.stack ?? error.message}`);
      actor.send({ type: 'CRASHED', message: error.message });
    });
    actor.start();
    return actor;
  })();
  const bootFailed = (message: string) => {
    logger.error(`Worker failed to boot: ${message}`);
    channel.send({ type: 'bootFailed', code: EXIT_BOOT_ERROR, message });
    return exit(EXIT_BOOT_ERROR);
  };
  started.then(
    (actor) =>
      toPromise(actor).then(
        (output) => exit(output.exitCode),
        // The chart guards its effects, so this is a defect; still, a worker that served is no boot failure.
        (error: unknown) => {
          if (!context.booted) return bootFailed(`the worker's state machine failed while booting: ${describeError(error)}`);
          logger.error(`Worker (pid: ${process.pid}) state machine failed: ${describeError(error)}`);
          return exit(EXIT_CRASHED);
        },
      ),
    (error: unknown) => bootFailed(`worker could not start (kind '${init.kind}'): ${describeError(error)}`),
  );

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
          // Sent for missing the timeout: if the loop can still run this, the chart says so and ends the worker.
          runHookSync(context.hooks, 'workerAbort', logger, context.info);
          return send({ type: 'ABORTED' });
      }
    },
  };
}
