// serve(): corral as a library. The calling process becomes the arbiter: it
// binds, spawns and supervises worker processes exactly as the CLI does (the
// CLI is this plus argv, signals and an exit status), and the returned handle
// drives it with the arbiter chart's own events.
import { EventEmitter } from 'node:events';
import type { InspectionEvent } from 'xstate';
import { MIN_WORKERS, acceptsWorkerCount } from '../machines/arbiter.js';
import type { WorkerExit, WorkerStats } from '../machines/worker-handle.js';
import { applyProcessSettings } from './config/apply-process-settings.js';
import { type EmbeddedOptions, OWN_KEYS, embeddedInput } from './config/embedded-options.js';
import type { Hooks } from './config/hooks.js';
import { type SettingSources, resolveEmbeddedSettings } from './config/resolve-settings.js';
import type { Settings } from './config/schema.js';
import { CorralError, describeError } from './errors.js';
import { defaultControlPath, serverName } from './ctl/control-path.js';
import { stateText } from './inspector/statechart-model.js';
import { applyInspectorReload } from './inspector/inspector-reload.js';
import { type RunningArbiter, startArbiter } from './arbiter/run-arbiter.js';
import { checkKind } from './kinds/registry.js';
import { type LogLevel, createLogger } from './log/logger.js';
import { checkMetricsSettings } from './metrics/check-metrics-settings.js';
import { tlsServerOptions } from './http/tls-options.js';
import { droppedLineCounter, logLineCounter } from './metrics/log-line-counter.js';

/** Every setting of docs/settings.md by its camelCase name, every hook, and these. */
export type ServeOptions = Partial<Omit<Settings, 'bind' | 'workerClass'>> &
  Hooks & {
    /** APP_MODULE, as on the command line: `module[:export]`, resolved from `cwd`. Workers import it. */
    app: string;
    /** One address or several: `HOST:PORT`, `[IPV6]:PORT`, `unix:PATH`, `fd://N`. Default 127.0.0.1:8000. */
    bind?: string | string[];
    /** The worker kind (-k): 'async' (default), 'sync', 'thread', or a module path or package. */
    kind?: string;
    /** Where `app` (and a relative `kind`) resolve. Default: process.cwd(). */
    cwd?: string;
    /** A config file to read first; these options override it. None by default. */
    config?: string;
    /** Turn this process's signals (HUP, TERM, TTIN …) into arbiter events, as the CLI does. Default false. */
    handleSignals?: boolean;
  };

export interface WorkerStatus {
  id: string;
  pid: number | undefined;
  /** The worker handle's state: booting, serving, draining … */
  state: string;
  generation: number;
  ready: boolean;
  retiring: boolean;
  stats: WorkerStats;
}

export interface ServerStatus {
  /** The arbiter chart's state, e.g. 'serving.steady', 'serving.reloading.rolling', 'draining', 'dead'. */
  state: string;
  /** Workers wanted. */
  workers: number;
  generation: number;
  listeners: string[];
  processes: WorkerStatus[];
}

export interface ServerEvents {
  /** Every worker is up: the listening addresses. */
  ready: [urls: string[]];
  /** The arbiter's or a worker's state changed. */
  state: [status: ServerStatus];
  workerExit: [exit: WorkerExit];
  reloaded: [outcome: { ok: boolean; reason?: string }];
  /** The arbiter has stopped and cleaned up: its exit status (0 after a requested stop). */
  exit: [code: number];
}

export interface CorralServer extends EventEmitter<ServerEvents> {
  /** Resolves with the listening addresses once every worker is up; rejects (CORRAL_ERR_HALTED) if corral stops first. */
  readonly ready: Promise<string[]>;
  /** Resolves with the exit status once stopped and cleaned up: no worker process is left. */
  readonly exited: Promise<number>;
  /** Rolling reload (HUP): re-reads `config`, replaces workers one by one. Rejects when the new generation does not take over. */
  reload(options?: { by?: string }): Promise<void>;
  /** Sets the number of workers: new ones boot, surplus ones drain (oldest first). */
  scale(workers: number): void;
  /** graceful (default): TERM, in-flight requests finish within gracefulTimeout; otherwise INT, at once. `by` names the caller in the log. */
  stop(options?: { graceful?: boolean; by?: string }): Promise<number>;
  status(): ServerStatus;
}

const SERVE = 'serve()';

class Server extends EventEmitter<ServerEvents> implements CorralServer {
  readonly ready: Promise<string[]>;
  readonly exited: Promise<number>;
  private stopped = false;

  constructor(private readonly arbiter: RunningArbiter) {
    super();
    const { notices } = arbiter;
    this.ready = new Promise((resolve, reject) => {
      notices.once('ready', resolve);
      notices.once('stopped', ({ exitCode, haltReason }) =>
        reject(new CorralError('CORRAL_ERR_HALTED', `corral stopped before it was ready (exit status ${exitCode}): ${haltReason ?? 'it was asked to stop'}`)),
      );
    });
    // A caller that only awaits `exited` must not see an unhandled rejection.
    this.ready.catch(() => {});
    notices.on('ready', (urls) => this.emit('ready', urls));
    notices.on('workerExit', (exit) => this.emit('workerExit', exit));
    notices.on('reloaded', (outcome) => this.emit('reloaded', outcome));
    notices.once('stopped', () => (this.stopped = true));
    arbiter.actor?.subscribe(() => this.listenerCount('state') > 0 && this.emit('state', this.status()));
    this.exited = arbiter.exit.then((code) => {
      this.stopped = true;
      this.emit('exit', code);
      return code;
    });
  }

  private assertRunning(operation: string) {
    if (this.stopped) throw new CorralError('CORRAL_ERR_STOPPED', `${operation}: this corral server has stopped; start another with serve().`);
  }

  reload({ by = SERVE }: { by?: string } = {}): Promise<void> {
    try {
      this.assertRunning('reload()');
    } catch (error) {
      return Promise.reject(error);
    }
    const outcome = new Promise<void>((resolve, reject) => {
      const onReloaded = ({ ok, reason }: { ok: boolean; reason?: string }) => {
        this.arbiter.notices.off('stopped', onStopped);
        if (ok) resolve();
        else reject(new CorralError('CORRAL_ERR_HALTED', `reload failed, the previous workers keep serving: ${reason}`));
      };
      const onStopped = () => {
        this.arbiter.notices.off('reloaded', onReloaded);
        reject(new CorralError('CORRAL_ERR_STOPPED', 'reload(): the server stopped before the reload completed'));
      };
      this.arbiter.notices.once('reloaded', onReloaded);
      this.arbiter.notices.once('stopped', onStopped);
    });
    this.arbiter.send({ type: 'SIGNAL', signal: 'SIGHUP', by });
    return outcome;
  }

  scale(workers: number): void {
    this.assertRunning('scale()');
    if (!acceptsWorkerCount(workers)) {
      throw new CorralError(
        'CORRAL_ERR_ARGUMENT',
        `scale(): workers must be a whole number ≥ ${MIN_WORKERS}, got ${String(workers)} (with none, every request would wait; to stop, call stop()).`,
      );
    }
    this.arbiter.send({ type: 'SCALE', workers });
  }

  stop({ graceful = true, by = SERVE }: { graceful?: boolean; by?: string } = {}): Promise<number> {
    if (!this.stopped) this.arbiter.send({ type: 'SIGNAL', signal: graceful ? 'SIGTERM' : 'SIGINT', by });
    return this.exited;
  }

  status(): ServerStatus {
    const snapshot = this.arbiter.actor?.getSnapshot();
    if (!snapshot) return { state: 'dead', workers: 0, generation: 0, listeners: [], processes: [] };
    const { context } = snapshot;
    return {
      state: stateText(snapshot.value),
      workers: context.workers,
      generation: context.generation,
      listeners: context.listeners,
      processes: Object.entries(context.workerRefs).map(([id, ref]) => {
        const handle = ref.getSnapshot();
        const info = context.workerInfo[id];
        return {
          id,
          pid: handle.context.pid,
          state: stateText(handle.value),
          generation: info.generation,
          ready: info.ready,
          retiring: info.retiring,
          stats: handle.context.stats,
        };
      }),
    };
  }
}

/**
 * Starts corral in this process. Rejects, with nothing started, on bad options
 * (CORRAL_ERR_CONFIG / CORRAL_ERR_SETTING / CORRAL_ERR_UNKNOWN_KIND / CORRAL_ERR_ARGUMENT).
 */
export async function serve(options: ServeOptions): Promise<CorralServer> {
  const { app, given } = embeddedInput(options as EmbeddedOptions, 'serve()');
  const { cwd, config, handleSignals = false } = options;
  const launchDirectory = process.cwd();
  const readSettings = () => resolveEmbeddedSettings(given, config, { env: process.env, cwd: cwd ?? launchDirectory, extraKeys: OWN_KEYS });
  // reload() re-reads the config file, with the options object still on top.
  return launch({ ...(await readSettings()), appModule: app, cwd, launchDirectory, handleSignals, reload: readSettings });
}

export interface LaunchOptions {
  settings: Settings;
  /** Where each setting came from, to name it in errors; by its flag when not given. */
  sources?: SettingSources;
  hooks: Hooks;
  configFile: string | undefined;
  appModule: string;
  /** Where the app resolves; default the working directory once `chdir` is applied. */
  cwd?: string;
  /** Where corral was started: an upgrade (USR2) starts the new arbiter from there. */
  launchDirectory: string;
  handleSignals: boolean;
  reload: () => Promise<{ settings: Settings; hooks: Hooks }>;
}

/** Starts the arbiter from settings already resolved (by serve() from its options, by the CLI from argv). */
export async function launch({ settings, sources, hooks, configFile, appModule, cwd, launchDirectory, handleSignals, reload }: LaunchOptions): Promise<CorralServer> {
  const identity = applyProcessSettings(settings, sources);
  const appDirectory = cwd ?? process.cwd();
  // After --chdir: a custom kind's path resolves where the workers will resolve it.
  await checkKind(settings.workerClass, appDirectory);
  await checkMetricsSettings(settings);
  tlsServerOptions(settings);
  // The inspector, StatsD and the control server load only when the settings ask for them: a plain start stays quick.
  const statsd = settings.statsdHost ? (await import('./metrics/statsd.js')).statsdFromSettings(settings) : undefined;
  const logger = createLogger({
    level: settings.logLevel as LogLevel,
    format: settings.logFormat as 'text' | 'json',
    path: settings.errorlog,
    onLine: statsd && logLineCounter(statsd),
    onDropped: statsd && droppedLineCounter(statsd),
  });
  // The inspector sees the actors through XState's inspection API, from their very first snapshot.
  const stately = settings.inspectorStately ? await (await import('./inspector/stately-inspector.js')).connectStately(settings.inspectorStately, logger) : undefined;
  const feed = settings.inspector ? (await import('./inspector/live-feed.js')).createLiveFeed({ history: settings.inspectorHistory }) : undefined;
  const inspectorModules = feed && { ...(await import('./inspector/inspector-server.js')), ...(await import('./inspector/error-log-tail.js')) };
  const inspector =
    feed &&
    inspectorModules &&
    (await inspectorModules
      .startInspectorServer(settings.inspector!, feed, logger, (lines) => inspectorModules.createErrorLogTail(settings.errorlog, lines), {
        history: settings.inspectorHistory,
        logLines: settings.inspectorLogLines,
        actions: settings.inspectorActions,
      })
      .catch((error: unknown) => {
    stately?.stop();
    throw error;
  }));
  let reread: Settings | undefined;
  let applied = settings;
  const inspect = feed || stately ? (event: InspectionEvent) => (feed?.inspect(event), stately?.inspect(event)) : undefined;
  const arbiter = await startArbiter({
    settings,
    hooks,
    configFile,
    appModule,
    cwd: appDirectory,
    logger,
    // The settings a reload read, kept to apply the inspector's once the reload succeeds.
    reload: async () => {
      const next = await reload();
      reread = next.settings;
      return next;
    },
    statsd,
    identity,
    launchDirectory,
    handleSignals,
    inspect,
  });
  feed?.countRefused(() => arbiter.refusedConnections());
  arbiter.notices.on('reloaded', ({ ok }) => {
    if (!ok || !reread) return;
    applyInspectorReload(applied, reread, inspector || undefined, logger);
    applied = reread;
  });
  void arbiter.exit.finally(() => {
    inspector?.close();
    stately?.stop();
  });
  const server = new Server(arbiter);
  inspector?.attach({
    scale: (workers) => server.scale(workers),
    reload: (options) => server.reload(options),
    workers: () => server.status().workers,
    replaceWorker(id, reason) {
      const worker = server.status().processes.find((process) => process.id === id);
      if (!worker || !worker.state.startsWith('serving') || worker.retiring) return false;
      arbiter.send({ type: 'WORKER.RECYCLE', id, reason });
      return true;
    },
  });
  if (arbiter.actor && !settings.controlSocketDisable) {
    const name = serverName(settings.procName, appModule);
    const path = settings.controlSocket ?? defaultControlPath(name, process.pid);
    // Opened once the listeners are bound: an arbiter that cannot bind stops without one.
    void onceBound(arbiter.actor).then(async (bound) => {
      if (!bound) return;
      // Without a control socket the server still runs: signals reach it as ever.
      const { startControlServer } = await import('./ctl/control-server.js');
      const control = await startControlServer(path, settings.controlSocketMode, { server, send: arbiter.send, name, kind: settings.workerClass, inspectorUrl: inspector?.url, dirty: arbiter.dirty }, logger).catch(
        (error: unknown) => void logger.error(`No control socket (corral ctl cannot reach this server): ${describeError(error)}`),
      );
      if (control) void arbiter.exit.finally(() => control.close());
    });
  }
  void arbiter.exit.finally(() => statsd?.close());
  return server;
}

/** true once the arbiter has left `booting` (its listeners are bound), false if it stops first. */
function onceBound(actor: NonNullable<RunningArbiter['actor']>): Promise<boolean> {
  return new Promise((resolve) => {
    let subscription: { unsubscribe(): void } | undefined;
    const settle = (bound: boolean) => {
      subscription?.unsubscribe();
      resolve(bound);
    };
    const check = () => {
      const snapshot = actor.getSnapshot();
      if (snapshot.status !== 'active') settle(false);
      else if (!snapshot.matches('booting')) settle(true);
    };
    subscription = actor.subscribe({ next: check, complete: () => settle(false), error: () => settle(false) });
    check();
  });
}
