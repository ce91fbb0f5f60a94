// The thread kind: the main thread owns the sockets and parses HTTP (keep-alive
// and pipelining as in the async kind); each request's handler runs in a pool
// of --threads worker threads, so an app that blocks (sync I/O, CPU work)
// blocks one thread, never the event loop that heartbeats and accepts. The app
// in a thread sees the request the async kind's app would see, and its
// response streams back as it writes it (see ThreadExchange, ForwardedRequest).
import type { Socket } from 'node:net';
import { fromCallback } from 'xstate';
import { describeError } from '../errors.js';
import type { KindDependencies, WorkerKind } from './contract.js';
import { listeningHttp } from './listening-http.js';
import { ThreadPool, servedBy } from './thread-pool.js';
import { sleepThread } from './sleep-thread.js';

function create(dependencies: KindDependencies) {
  const { appModule, cwd, settings, logger } = dependencies;
  return fromCallback<{ type: 'DRAIN' }, { app: unknown }>(({ sendBack, receive }) => {
    let stopped = false;
    // The main thread loaded the app too (the worker does, for every kind); the threads load their own copies.
    const pool = new ThreadPool({
      appModule,
      cwd,
      threads: settings.threads,
      timeoutSeconds: settings.timeout,
      keepAliveMs: settings.keepAlive * 1000,
      serverHeader: settings.serverHeader,
      logger,
    });

    // The app runs in the threads, so Upgrade requests reach it as ordinary requests: WebSockets need -k async.
    const http = listeningHttp({ dependencies, sendBack, handle: servedBy(pool), accepted: yieldWhenFull(settings.threads) });

    // Accept nothing until the threads have loaded the app: an app that cannot run in a thread is a boot
    // failure, not a stream of 500s, and the first requests do not wait for imports.
    const loadDeadlineMs = settings.timeout > 0 ? settings.timeout * 1000 : undefined;
    let loadTimer: NodeJS.Timeout | undefined;
    const loadDeadline = new Promise<never>((_, reject) => {
      if (loadDeadlineMs) loadTimer = setTimeout(() => reject(new Error(`the threads had not loaded it within the ${settings.timeout} s timeout`)), loadDeadlineMs);
    });
    Promise.race([pool.ready, loadDeadline])
      .then(
        ({ shape, origin }) => {
          if (stopped) return;
          logger.debug(`Pool of ${settings.threads} thread(s) loaded ${appModule} (${shape}-style, ${origin})`);
          http.listen();
        },
        (error: unknown) => {
          if (!stopped) sendBack({ type: 'KIND.FAILED', message: `the app could not be loaded in a pool thread: ${describeError(error)}` });
        },
      )
      .finally(() => clearTimeout(loadTimer));

    receive((command) => {
      if (command.type !== 'DRAIN') return;
      pool.drain();
      http.drain();
    });

    // Stopped with the machine (quick stop, or the graceful deadline passed): cut everything, threads included.
    return () => {
      stopped = true;
      clearTimeout(loadTimer);
      http.stop();
      pool.destroy().catch(() => {});
    };
  });
}

/** How long a worker stands back after an accept, for each --threads worth of connections it holds. */
const YIELD_MS = 0.1;
/** The longest it stands back after one accept. */
const MAX_YIELD_MS = 0.5;

/**
 * Every worker accepts on the same listening socket, and the kernel gives a
 * burst of new connections to whichever worker is running: on few cores one
 * may take them all while another's threads sit idle, and serve half of what
 * the two would (a thread-kind worker serves at most --threads requests at
 * once, however many connections it holds). Once a worker holds more
 * connections than it has threads, it stands back for a moment after each
 * accept, longer the more it holds, so a sibling waiting in accept takes the
 * next one (a sibling that is runnable but not running, on a busy machine,
 * needs a few of these to be scheduled).
 */
function yieldWhenFull(threads: number) {
  let open = 0;
  const closed = () => void (open -= 1);
  return (socket: Socket) => {
    open += 1;
    socket.once('close', closed);
    if (open > threads) sleepThread(Math.min(MAX_YIELD_MS, YIELD_MS * Math.floor(open / threads)));
  };
}

export const threadKind: WorkerKind = {
  name: 'thread',
  description: 'handlers run in a pool of --threads threads; the event loop owns the sockets',
  create,
};
