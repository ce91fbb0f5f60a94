// Runs the arbiter statechart with real effects: sockets, processes, signals, logs.
import { createActor, fromPromise, toPromise } from 'xstate';
import { arbiterMachine } from '../../machines/arbiter.js';
import { workerHandleMachine } from '../../machines/worker-handle.js';
import type { Settings } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { type BoundListener, bindAll } from '../sockets/listeners.js';
import { version } from '../version.js';
import { workerProcessLogic } from './worker-process.js';

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
/** gunicorn kills a worker this long after SIGABRT/SIGQUIT. */
const KILL_DELAY_MS = 1000;

export interface ArbiterOptions {
  settings: Settings;
  appModule: string;
  cwd: string;
  logger: Logger;
}

export async function runArbiter({ settings, appModule, cwd, logger }: ArbiterOptions): Promise<number> {
  logger.info(`Starting corral ${version}`);
  const listeners: BoundListener[] = [];
  const closeListeners = () => listeners.forEach((listener) => listener.close());
  const log = (_: unknown, params: { level: Parameters<Logger['log']>[0]; message: string }) =>
    logger.log(params.level, params.message);

  const machine = arbiterMachine.provide({
    actors: {
      bindListeners: fromPromise(async () => {
        listeners.push(...(await bindAll(settings.bind)));
        for (const listener of listeners) logger.info(`Listening at: ${listener.url} (${process.pid})`);
        logger.info(`Using worker: ${settings.workerClass}`);
        return listeners.map((listener) => listener.url);
      }),
      workerHandle: workerHandleMachine.provide({
        actors: {
          workerProcess: workerProcessLogic({
            listeners: () => listeners,
            logger,
            init: {
              appModule,
              cwd,
              kind: settings.workerClass,
              settings: {
                timeoutMs: settings.timeout * 1000,
                gracefulTimeoutMs: settings.gracefulTimeout * 1000,
                keepAliveMs: settings.keepAlive * 1000,
                backlog: settings.backlog,
                logLevel: settings.logLevel,
              },
            },
          }),
        },
        actions: { log },
      }),
    },
    actions: { log, closeListeners },
  });

  const actor = createActor(machine, {
    input: {
      workers: settings.workers,
      timeoutMs: settings.timeout * 1000,
      gracefulTimeoutMs: settings.gracefulTimeout * 1000,
      killDelayMs: KILL_DELAY_MS,
    },
  });
  const onSignal = (signal: (typeof SHUTDOWN_SIGNALS)[number]) => actor.send({ type: 'SIGNAL', signal });
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  actor.start();
  try {
    const output = await toPromise(actor);
    if (output.haltReason) logger.error(output.haltReason);
    logger.info('Shutting down: Master');
    return output.exitCode;
  } finally {
    closeListeners();
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  }
}
