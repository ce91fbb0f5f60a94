// startWorker(): one worker actor in this process, without an arbiter. It binds
// its addresses itself and serves the app with the kind it is given, running
// the same worker chart and kind as a worker process does; what it would report
// to an arbiter (booted, ready, heartbeats) arrives as 'report' events instead.
// For tests, and for one-process embeddings where something else supervises.
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';
import { type Actor, toPromise } from 'xstate';
import type { workerMachine } from '../../machines/worker.js';
import { type EmbeddedOptions, OWN_KEYS, embeddedInput } from '../config/embedded-options.js';
import { resolveEmbeddedSettings } from '../config/resolve-settings.js';
import { CorralError } from '../errors.js';
import type { WorkerToArbiter } from '../ipc/protocol.js';
import { loadKind, takesDispatch } from '../kinds/registry.js';
import type { ServeOptions } from '../serve.js';
import { bindAll } from '../sockets/listeners.js';
import { version } from '../version.js';
import { tlsServerOptions } from '../http/tls-options.js';
import { createWorkerActor, createWorkerContext } from './run-worker.js';

/** serve()'s options, less those only an arbiter has a use for. */
export type WorkerOptions = Omit<ServeOptions, 'handleSignals' | 'workers'>;

export interface InProcessWorkerEvents {
  /** What a worker process would send its arbiter: booted, ready, heartbeat (counters, lag, rss), bootFailed. */
  report: [message: WorkerToArbiter];
  ready: [urls: string[]];
  exit: [code: number];
}

export interface InProcessWorker extends EventEmitter<InProcessWorkerEvents> {
  /** The worker chart's actor, running here: its snapshot is the worker's state. */
  readonly actor: Actor<typeof workerMachine>;
  /** Resolves with the listening addresses once the app is loaded and the kind listens; rejects if it stops first. */
  readonly ready: Promise<string[]>;
  /** Resolves with the worker's exit code once it has stopped and closed its sockets. */
  readonly exited: Promise<number>;
  /** graceful (default): stop accepting, finish in-flight requests (within gracefulTimeout); otherwise at once. */
  stop(options?: { graceful?: boolean }): Promise<number>;
}

/** A unix socket's file outlives the fd; node leaves it when the server was given an fd to listen on. */
function removeSocketFile({ url }: { url: string }) {
  if (!url.startsWith('unix:')) return;
  try {
    unlinkSync(url.slice('unix:'.length));
  } catch {
    // already gone
  }
}

export async function startWorker(options: WorkerOptions): Promise<InProcessWorker> {
  const { app, given } = embeddedInput(options as EmbeddedOptions, 'startWorker()');
  const { cwd = process.cwd(), config } = options;
  const { settings, hooks, configFile } = await resolveEmbeddedSettings(given, config, { env: process.env, cwd, extraKeys: OWN_KEYS });
  const workerKind = await loadKind(settings.workerClass, cwd);
  if (takesDispatch(workerKind)) {
    throw new CorralError(
      'CORRAL_ERR_ARGUMENT',
      `startWorker(): the ${workerKind.name} kind takes its connections from an arbiter; use serve(), or kind 'async' or 'thread' in one process.`,
    );
  }
  const listeners = await bindAll(settings.bind);
  const emitter = new EventEmitter<InProcessWorkerEvents>();
  const context = await createWorkerContext(
    {
      type: 'init',
      version: 1,
      workerId: 'in-process',
      appModule: app,
      cwd,
      kind: settings.workerClass,
      listeners: listeners.map(({ fd, url }) => ({ fd, url })),
      settings,
      configFile,
    },
    { send: (message) => void emitter.emit('report', message), close: () => {} },
  );
  context.hooks = hooks;
  let actor: Actor<typeof workerMachine>;
  try {
    context.tls = tlsServerOptions(settings);
    actor = await createWorkerActor(context);
  } catch (error) {
    listeners.forEach((listener) => listener.close());
    throw error;
  }
  const urls = listeners.map((listener) => listener.url);
  const ready = new Promise<string[]>((resolve, reject) => {
    emitter.on('report', (message) => {
      if (message.type === 'ready') resolve(urls);
      if (message.type === 'bootFailed') reject(new CorralError('CORRAL_ERR_HALTED', `the worker could not boot: ${message.message}`));
    });
  });
  ready.then((ready) => emitter.emit('ready', ready), () => {});
  actor.start();
  context.logger.info(`corral ${version} worker in process ${process.pid}, serving ${urls.join(', ')}`);
  let listened = false;
  void ready.then(() => (listened = true), () => {});
  const exited = toPromise(actor).then(async ({ exitCode }) => {
    // Once the kind listens, its servers share each socket's fd with our binding handle and close it
    // as they stop; closing the binding too would close whatever reused that fd number since.
    if (listened) listeners.forEach(removeSocketFile);
    else listeners.forEach((listener) => listener.close());
    await context.accessLog?.close();
    context.logger.flush();
    emitter.emit('exit', exitCode);
    return exitCode;
  });
  return Object.assign(emitter, {
    actor,
    ready,
    exited,
    stop({ graceful = true }: { graceful?: boolean } = {}) {
      actor.send({ type: graceful ? 'DRAIN' : 'STOP' });
      return exited;
    },
  });
}
