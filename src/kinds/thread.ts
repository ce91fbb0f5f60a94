// The thread kind: the main thread owns the sockets and parses HTTP (keep-alive
// and pipelining as in the async kind); each request's handler runs in a
// piscina pool of --threads threads, so an app that blocks (sync I/O, CPU work)
// blocks one thread, never the event loop that heartbeats and accepts.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { fromCallback } from 'xstate';
import { describeError } from '../errors.js';
import type { KindDependencies, WorkerKind } from './contract.js';
import { RequestTimeoutError, ThreadReplacedError, createThreadPool } from './thread-pool.js';
import type { RequestTask, ThreadResponse } from './thread-messages.js';
import { readRequestBody } from './thread-request-body.js';
import { writeThreadResponse } from './thread-response.js';

/** RFC 9110 9.2.2: requests a server may run twice with the same effect. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

const startedAtKey = Symbol('corral.startedAt');
type TimedResponse = ServerResponse & { [startedAtKey]?: bigint };

/** A short plain-text answer that ends the connection, for requests the app could not answer. */
function answerFailure(res: ServerResponse, status: number, text: string) {
  if (res.headersSent || res.destroyed) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain', connection: 'close', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function create({ appModule, cwd, listeners, settings, counters, logger, observers }: KindDependencies) {
  return fromCallback<{ type: 'DRAIN' }, { app: unknown }>(({ sendBack, receive }) => {
    const keepAliveMs = settings.keepAlive * 1000;
    const observe = observers.length > 0;
    let draining = false;
    let stopped = false;
    const servers: http.Server[] = [];
    // Responses whose headers may not be out yet, so a drain can still make them the last on their connection.
    const pending = new Set<ServerResponse>();
    // The main thread loaded the app too (the worker does, for every kind); the threads load their own copies.
    const pool = createThreadPool({ appModule, cwd, threads: settings.threads, timeoutSeconds: settings.timeout });
    pool.onError((error) => logger.error(`A pool thread failed outside any request and was replaced: ${describeError(error)}`));
    pool.onReplacement((threadId) => logger.info(`Pool thread ${threadId} started in place of a stopped one`));

    function onResponseClose(this: ServerResponse) {
      counters.inFlight -= 1;
      counters.served += 1;
      pending.delete(this);
      if (observe) {
        const startedAt = (this as TimedResponse)[startedAtKey]!;
        for (const observer of observers) observer.finished?.(this.req, this, startedAt);
      }
    }

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

    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      counters.inFlight += 1;
      // Keep-alive 0, or a worker on its way out: one response per connection.
      if (draining || keepAliveMs === 0) res.shouldKeepAlive = false;
      res.once('close', onResponseClose);
      pending.add(res);
      if (observe) {
        (res as TimedResponse)[startedAtKey] = process.hrtime.bigint();
        for (const observer of observers) observer.started?.(req);
      }
      void serve(req, res);
    };

    let lastFullWarning = 0;
    const warnFull = () => {
      if (Date.now() - lastFullWarning < 1000) return;
      lastFullWarning = Date.now();
      logger.warning(`Worker (pid: ${process.pid}) is at --worker-connections ${settings.workerConnections}: closing new connections`);
    };

    const listen = () => {
      let listening = 0;
      for (const listener of listeners) {
        const server = http.createServer(onRequest);
        server.keepAliveTimeout = keepAliveMs;
        // Past --worker-connections node closes new connections at once; say so, at most once a second.
        server.maxConnections = settings.workerConnections;
        server.on('drop', () => warnFull());
        server.on('error', (error) => sendBack({ type: 'KIND.FAILED', message: `${listener.url}: ${error.message}` }));
        server.on('clientError', (error, socket) => {
          // Node answers malformed requests itself when it can; nothing here should take the worker down.
          if (socket.writable && !(error as { code?: string }).code?.startsWith('ECONN')) {
            socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          } else socket.destroy();
        });
        server.listen({ fd: listener.fd, backlog: settings.backlog }, () => {
          listening += 1;
          if (listening === listeners.length) sendBack({ type: 'KIND.LISTENING' });
        });
        servers.push(server);
      }
    };

    // Accept nothing until the threads have loaded the app: an app that cannot run in a thread is a boot
    // failure, not a stream of 500s, and the first requests do not wait for imports. One probe per thread:
    // a thread takes one task at a time, so they spread over the whole pool.
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
          listen();
        },
        (error: unknown) => {
          if (!stopped) sendBack({ type: 'KIND.FAILED', message: `the app could not be loaded in a pool thread: ${describeError(error)}` });
        },
      )
      .finally(() => clearTimeout(probeTimer));

    receive((command) => {
      if (command.type !== 'DRAIN' || draining) return;
      draining = true;
      for (const res of pending) if (!res.headersSent) res.shouldKeepAlive = false;
      if (servers.length === 0) return sendBack({ type: 'KIND.DRAINED' });
      let open = servers.length;
      // Stop accepting, but do not cut idle keep-alive connections (http.Server#close would): a
      // client may be sending on one right now and would see a reset. Each ends after its next
      // response (sent with Connection: close) or when its keep-alive timeout passes.
      for (const server of servers) {
        net.Server.prototype.close.call(server, () => {
          open -= 1;
          if (open === 0) sendBack({ type: 'KIND.DRAINED' });
        });
      }
    });

    // Stopped with the machine (quick stop, or the graceful deadline passed): cut everything, threads included.
    return () => {
      stopped = true;
      clearTimeout(probeTimer);
      for (const server of servers) {
        server.close();
        server.closeAllConnections();
      }
      pool.destroy().catch(() => {});
    };
  });
}

export const threadKind: WorkerKind = {
  name: 'thread',
  description: 'handlers run in a piscina pool of --threads threads; the event loop owns the sockets',
  create,
};
