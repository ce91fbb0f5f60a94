// Runs the arbiter statechart with real effects: sockets, processes, signals, logs, hooks.
import { unlinkSync, writeFileSync } from 'node:fs';
import { createActor, fromPromise, toPromise } from 'xstate';
import { type ArbiterSignal, arbiterMachine } from '../../machines/arbiter.js';
import { type WorkerExit, workerHandleMachine } from '../../machines/worker-handle.js';
import type { Hooks } from '../config/hooks.js';
import { runHook } from '../config/run-hook.js';
import type { Settings } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { type BoundListener, bindAll } from '../sockets/listeners.js';
import { version } from '../version.js';
import { workerProcessLogic } from './worker-process.js';

const HANDLED_SIGNALS: readonly ArbiterSignal[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1'];
/** gunicorn kills a worker this long after SIGABRT/SIGQUIT. */
const KILL_DELAY_MS = 1000;

export interface ArbiterOptions {
  settings: Settings;
  hooks: Hooks;
  configFile: string | undefined;
  appModule: string;
  cwd: string;
  logger: Logger;
}

function writePidfile(path: string | null) {
  if (!path) return () => {};
  writeFileSync(path, `${process.pid}\n`);
  return () => {
    try {
      unlinkSync(path);
    } catch {
      // already removed
    }
  };
}

export async function runArbiter({ settings, hooks, configFile, appModule, cwd, logger }: ArbiterOptions): Promise<number> {
  logger.info(`Starting corral ${version}`);
  await runHook(hooks, 'onStarting', logger, settings);
  const removePidfile = writePidfile(settings.pidfile);
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
            hooks,
            init: { appModule, cwd, kind: settings.workerClass, settings, configFile },
          }),
        },
        actions: { log },
      }),
    },
    actions: {
      log,
      closeListeners,
      announceReady: () => void runHook(hooks, 'whenReady', logger, settings),
      workerExited: (_, exit: WorkerExit) => void runHook(hooks, 'childExit', logger, { id: exit.id, pid: exit.pid, exitCode: exit.exitCode, signal: exit.signal }),
      reopenOwnLogs: () => logger.reopen(),
    },
  });

  const actor = createActor(machine, {
    input: {
      workers: settings.workers,
      timeoutMs: settings.timeout * 1000,
      gracefulTimeoutMs: settings.gracefulTimeout * 1000,
      killDelayMs: KILL_DELAY_MS,
    },
  });
  const onSignal = (signal: ArbiterSignal) => actor.send({ type: 'SIGNAL', signal });
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  actor.start();
  try {
    const output = await toPromise(actor);
    if (output.haltReason) logger.error(output.haltReason);
    await runHook(hooks, 'onExit', logger, settings);
    logger.info('Shutting down: Master');
    return output.exitCode;
  } finally {
    closeListeners();
    removePidfile();
    logger.flush();
    for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
  }
}
