// The thread kind: the main thread owns the sockets and parses HTTP (keep-alive
// and pipelining as in the async kind); each request's handler runs in a
// piscina pool of --threads threads, so an app that blocks (sync I/O, CPU work)
// blocks one thread, never the event loop that heartbeats and accepts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromCallback } from 'xstate';
import { describeError } from '../errors.js';
import { answerFailure } from '../http/answer-failure.js';
import type { KindDependencies, WorkerKind } from './contract.js';
import { RequestTimeoutError, ThreadReplacedError, createThreadPool } from './thread-pool.js';
import type { RequestTask, ThreadResponse } from './thread-messages.js';
import { listeningHttp } from './listening-http.js';
import { readRequestBody } from './thread-request-body.js';
import { writeThreadResponse } from './thread-response.js';

/** RFC 9110 9.2.2: requests a server may run twice with the same effect. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function create(dependencies: KindDependencies) {
  const { appModule, cwd, settings, logger } = dependencies;
  return fromCallback<{ type: 'DRAIN' }, { app: unknown }>(({ sendBack, receive }) => {
    let stopped = false;
    // The main thread loaded the app too (the worker does, for every kind); the threads load their own copies.
    const pool = createThreadPool({ appModule, cwd, threads: settings.threads, timeoutSeconds: settings.timeout });
    pool.onError((error) => logger.error(`A pool thread failed outside any request and was replaced: ${describeError(error)}`));
    pool.onReplacement((threadId) => logger.info(`Pool thread ${threadId} started in place of a stopped one`));

    const fail = (req: IncomingMessage, res: ServerResponse, error: unknown) => {
      if (stopped) return;
      if (error instanceof RequestTimeoutError) {
        logger.error(`Request ${req.method} ${req.url} ran past the ${error.seconds} s timeout in the thread pool; answered 503 (a thread still running it is replaced)`);
        return answerFailure(res, 503, 'Service Unavailable: the request timed out\n');
      }
      if (error instanceof ThreadReplacedError) {
        logger.error(`Request ${req.method} ${req.url} waited on a thread replaced after another request timed out; answered 503 (only bodiless idempotent requests are run again)`);
        return answerFailure(res, 503, 'Service Unavailable: please retry\n');
      }
      logger.error(`Error handling request ${req.method} ${req.url}: ${error instanceof Error ? error.stack : String(error)}`);
      answerFailure(res, 500, 'Internal Server Error\n');
    };

    const serve = async (req: IncomingMessage, res: ServerResponse) => {
      let body: ArrayBuffer | null;
      try {
        body = await readRequestBody(req);
      } catch {
        // The client went away mid-body: there is no one to answer.
        return void res.destroy();
      }
      const task: RequestTask = {
        type: 'request',
        method: req.method!,
        url: req.url!,
        rawHeaders: req.rawHeaders,
        body,
        remoteAddress: req.socket.remoteAddress,
        remotePort: req.socket.remotePort,
        secure: Boolean((req.socket as { encrypted?: boolean }).encrypted),
      };
      try {
        let response: ThreadResponse;
        try {
          response = await pool.run(task);
        } catch (error) {
          // Queued behind a request that hung, on the thread replaced for it: run it again on another, if that is safe.
          if (!(error instanceof ThreadReplacedError && body === null && IDEMPOTENT.has(task.method))) throw error;
          response = await pool.run(task);
        }
        if (!res.destroyed) writeThreadResponse(req, res, response);
      } catch (error) {
        fail(req, res, error);
      }
    };

    // The app runs in the threads, so Upgrade requests reach it as ordinary requests: WebSockets need -k async.
    const http = listeningHttp({
      dependencies,
      sendBack,
      handle: (req, res) => void serve(req, res),
    });

    // Accept nothing until the threads have loaded the app: an app that cannot run in a thread is a boot
    // failure, not a stream of 500s, and the first requests do not wait for imports. One probe per thread:
    // idle threads are picked first, so they spread over the whole pool.
    const probeDeadlineMs = settings.timeout > 0 ? settings.timeout * 1000 : undefined;
    let probeTimer: NodeJS.Timeout | undefined;
    const probeDeadline = new Promise<never>((_, reject) => {
      if (probeDeadlineMs) probeTimer = setTimeout(() => reject(new Error(`the threads had not loaded it within the ${settings.timeout} s timeout`)), probeDeadlineMs);
    });
    const probes = Promise.all(Array.from({ length: settings.threads }, () => pool.probe()));
    Promise.race([probes, probeDeadline])
      .then(
        ([{ shape, origin }]) => {
          if (stopped) return;
          logger.debug(`Pool of ${settings.threads} thread(s) loaded ${appModule} (${shape}-style, ${origin})`);
          http.listen();
        },
        (error: unknown) => {
          if (!stopped) sendBack({ type: 'KIND.FAILED', message: `the app could not be loaded in a pool thread: ${describeError(error)}` });
        },
      )
      .finally(() => clearTimeout(probeTimer));

    receive((command) => {
      if (command.type === 'DRAIN') http.drain();
    });

    // Stopped with the machine (quick stop, or the graceful deadline passed): cut everything, threads included.
    return () => {
      stopped = true;
      clearTimeout(probeTimer);
      http.stop();
      pool.destroy().catch(() => {});
    };
  });
}

export const threadKind: WorkerKind = {
  name: 'thread',
  description: 'handlers run in a piscina pool of --threads threads; the event loop owns the sockets',
  create,
};
