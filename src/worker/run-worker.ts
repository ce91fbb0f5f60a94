// Runs the worker statechart with real effects: the app loader, the kind, IPC reports.
import type { Socket } from 'node:net';
import { type Actor, createActor, fromPromise, toPromise } from 'xstate';
import { EXIT_BOOT_ERROR, type WorkerEvent, workerMachine } from '../../machines/worker.js';
import { loadApp } from '../app/load-app.js';
import { describeError } from '../errors.js';
import type { Channel } from '../ipc/channel.js';
import type { WorkerInit, WorkerToArbiter } from '../ipc/protocol.js';
import type { RequestCounters } from '../kinds/contract.js';
import { loadKind } from '../kinds/registry.js';
import { type LogLevel, type Logger, createLogger } from '../log/logger.js';

/** Frequent enough that a few can be missed before the timeout fires. */
const heartbeatInterval = (timeoutMs: number) => (timeoutMs > 0 ? Math.max(50, Math.min(1000, timeoutMs / 4)) : 1000);

/** Waits (briefly) for queued reports to reach the arbiter before the process exits. */
const flush = (pipe: Socket) =>
  new Promise<void>((resolve) => {
    if (pipe.destroyed || pipe.writableLength === 0) return resolve();
    pipe.once('drain', resolve);
    setTimeout(resolve, 500).unref();
  });

async function createWorkerActor(init: WorkerInit, channel: Channel<WorkerToArbiter>, logger: Logger) {
  const counters: RequestCounters = { inFlight: 0, served: 0 };
  const heartbeatMs = heartbeatInterval(init.settings.timeoutMs);
  let lastBeat = performance.now();
  const kind = await loadKind(init.kind);

  const machine = workerMachine.provide({
    actors: {
      loadApp: fromPromise<unknown>(() => loadApp(init.appModule, init.cwd)),
      kind: kind.create({ listeners: init.listeners, settings: init.settings, counters, logger }),
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
        channel.send({ type: 'heartbeat', ...counters, lagMs, rss: process.memoryUsage.rss() });
      },
    },
  });
  return createActor(machine, { input: { heartbeatMs, gracefulTimeoutMs: init.settings.gracefulTimeoutMs } });
}

/** Boots the worker; returns a way to send it events (signals, arbiter commands). */
export function runWorker(init: WorkerInit, channel: Channel<WorkerToArbiter>, pipe: Socket) {
  const logger = createLogger(init.settings.logLevel as LogLevel);
  process.title = 'corral: worker';
  const exit = async (code: number) => {
    logger.info(`Worker exiting (pid: ${process.pid})`);
    await flush(pipe);
    process.exit(code);
  };

  const started: Promise<Actor<typeof workerMachine>> = createWorkerActor(init, channel, logger).then((actor) => {
    process.on('uncaughtException', (error) => {
      logger.error(`Uncaught exception in worker (pid: ${process.pid}): ${error.stack ?? error.message}`);
      actor.send({ type: 'CRASHED', message: error.message });
    });
    actor.start();
    return actor;
  });
  started
    .then((actor) => toPromise(actor))
    .then((output) => exit(output.exitCode))
    .catch((error: unknown) => {
      const message = `worker kind '${init.kind}' failed to load: ${describeError(error)}`;
      logger.error(`Worker failed to boot: ${message}`);
      channel.send({ type: 'bootFailed', code: EXIT_BOOT_ERROR, message });
      return exit(EXIT_BOOT_ERROR);
    });

  return { send: (event: WorkerEvent) => void started.then((actor) => actor.send(event)) };
}
