// A worker outlives its arbiter only while nobody notices: its IPC pipe closes
// and the main loop ends the worker, unless that loop is blocked (a handler in
// an endless loop), when it would keep the listening socket, and new
// connections would hang, for as long as the loop stays blocked. A thread of its
// own watches the parent pid and ends the worker's process group once the
// arbiter is gone and the worker has not left by itself.
//
// Limits: a process the app starts in a new session or process group (spawn's
// `detached: true`, setsid, a daemon) is out of the worker's group and is not
// ended. With the arbiter as PID 1 of a container, its death ends the container,
// workers included, so there is nothing to watch.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.js';

/** How often the thread asks for the parent pid. */
const POLL_MS = 200;
/** How long a worker whose loop turns gets to leave by itself (logs, workerExit hook) once its arbiter is gone. */
const GRACE_MS = 1000;
const THREAD = new URL('./orphan-watchdog-thread.js', import.meta.url);

/** Starts the watchdog; it never keeps the worker alive, and a watchdog that cannot start is logged, not fatal. */
export function watchForOrphaning(arbiterPid: number, logger: Pick<Logger, 'warning'>): void {
  try {
    const thread = new Worker(THREAD, {
      workerData: { arbiterPid, pollMs: POLL_MS, graceMs: GRACE_MS },
      // A few MB: it polls a number.
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1, stackSizeMb: 1 },
      stdout: false,
      stderr: false,
    });
    thread.unref();
    thread.on('error', (error) => logger.warning(`Worker (pid: ${process.pid}): the orphan watchdog stopped (${error.message}); a blocked worker may outlive its arbiter`));
  } catch (error) {
    logger.warning(`Worker (pid: ${process.pid}): no orphan watchdog (${error instanceof Error ? error.message : String(error)}); a blocked worker may outlive its arbiter`);
  }
}
