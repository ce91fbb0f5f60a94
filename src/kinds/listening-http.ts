// What the async and thread kinds share: node's http servers on the listening
// sockets every worker inherits, the per-request bookkeeping (counters,
// observers, keep-alive), HTTP upgrades, and a drain that never cuts a
// keep-alive connection a client may be sending on.
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import type { UpgradeHandler } from '../app/app-shape.js';
import { guardUpgrade } from '../http/guard-upgrade.js';
import { createHttpServer } from '../http/http-server.js';
import { servesHttp2 } from '../http/http-protocols.js';
import type { Http2Sessions } from '../http/http2-sessions.js';
import type { KindReport } from '../../machines/worker.js';
import type { KindDependencies } from './contract.js';
import { sheddingLog } from './shedding-log.js';
import { requestLine } from '../http/request-line.js';
import { InFlightResponses } from './in-flight-responses.js';
import { describeError } from '../errors.js';

/** accept() failures that mean "no descriptor for this connection now": the kernel's queue is drained, serving goes on. */
const OUT_OF_DESCRIPTORS = new Set(['EMFILE', 'ENFILE']);

// Kept on the response itself: a WeakMap entry per request costs far more (lookups, and ephemeron work in every GC).
const startedAtKey = Symbol('corral.startedAt');
type TimedResponse = ServerResponse & { [startedAtKey]?: bigint };

export interface ListeningHttpOptions {
  dependencies: Pick<KindDependencies, 'listeners' | 'settings' | 'counters' | 'logger' | 'observers' | 'tls'>;
  sendBack: (report: KindReport) => void;
  /** Serves one request; the bookkeeping is done around it. */
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  upgrade?: UpgradeHandler;
  /** Told of every connection accepted, before its first byte is read. */
  accepted?: (socket: net.Socket) => void;
}

export interface ListeningHttp {
  /** Starts accepting; reports KIND.LISTENING once every listener is up. */
  listen(): void;
  /** Stops accepting; reports KIND.DRAINED once every connection has ended. */
  drain(): void;
  /** Cuts every connection at once (quick stop, or the graceful deadline passed). */
  stop(): void;
}

export function listeningHttp({ dependencies, sendBack, handle, upgrade, accepted }: ListeningHttpOptions): ListeningHttp {
  const { listeners, settings, counters, logger, observers, tls } = dependencies;
  const keepAliveMs = settings.keepAlive * 1000;
  const observe = observers.length > 0;
  const onUpgrade = upgrade && guardUpgrade(upgrade, logger);
  let draining = false;
  let stopped = false;
  const servers: http.Server[] = [];
  // Responses whose headers may not be out yet, so a drain can still make them the last on their connection.
  const pending = new InFlightResponses();

  // One shared listener, not a closure per request: this runs for every response. Added with on(), not once():
  // node emits a response's 'close' once, and once() would cost a wrapper per request and a removal per close;
  // a response not in flight (a 'close' emitted again by hand) is let be.
  function onResponseClose(this: ServerResponse) {
    if (!pending.delete(this)) return;
    counters.inFlight -= 1;
    counters.served += 1;
    http2?.responseClosed(this);
    if (observe) {
      const startedAt = (this as TimedResponse)[startedAtKey]!;
      for (const observer of observers) observer.finished?.(this.req, this, startedAt);
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    counters.inFlight += 1;
    // Also for the stop, which names every request it cuts with its age.
    (res as TimedResponse)[startedAtKey] = process.hrtime.bigint();
    // Keep-alive 0, or a worker on its way out: one response per connection.
    if (draining || keepAliveMs === 0) res.shouldKeepAlive = false;
    res.on('close', onResponseClose);
    pending.add(res);
    if (observe) for (const observer of observers) observer.started?.(req, res);
    handle(req, res);
  };

  const logShed = sheddingLog(logger);
  const shed = (reason: string) => {
    counters.dropped = (counters.dropped ?? 0) + 1;
    logShed(reason);
  };
  const atLimit = `at --worker-connections ${settings.workerConnections}`;
  const onDrop = () => shed(atLimit);

  // One for every listener, with --http-protocols h2: HTTP/2 streams get the same bookkeeping as HTTP/1.1 requests.
  let http2: Http2Sessions | undefined;

  function listenOnEveryListener() {
    let listening = 0;
    for (const listener of listeners) {
      const server = createHttpServer({ settings, logger, tls, onRequest, onUpgrade, http2 });
      // Past --worker-connections node closes new connections at once; say so, at most once a second.
      server.maxConnections = settings.workerConnections;
      server.on('drop', onDrop);
      if (accepted) server.on('connection', accepted);
      server.on('error', (error: NodeJS.ErrnoException) => {
        // Out of descriptors: shed, not failed (libuv mostly closes such connections itself, unreported).
        if (error.syscall === 'accept' && OUT_OF_DESCRIPTORS.has(error.code ?? '')) return shed(`not accepted (${error.code}: out of file descriptors, see ulimit -n)`);
        sendBack({ type: 'KIND.FAILED', message: `${listener.url}: ${error.message}` });
      });
      server.listen({ fd: listener.fd, backlog: settings.backlog }, () => {
        listening += 1;
        if (listening === listeners.length) sendBack({ type: 'KIND.LISTENING' });
      });
      servers.push(server);
    }
  }

  return {
    listen() {
      if (!servesHttp2(settings.httpProtocols)) return listenOnEveryListener();
      // node:http2 (and the node:tls and node:crypto it needs) loads only when HTTP/2 is served: it costs every worker's start some milliseconds.
      import('../http/http2-sessions.js').then(
        ({ http2Sessions }) => {
          // Told to leave while it loaded: nothing to listen for.
          if (draining || stopped) return;
          http2 = http2Sessions({ settings, logger, onRequest, observed: observe, inFlight: () => pending });
          listenOnEveryListener();
        },
        (error: unknown) => sendBack({ type: 'KIND.FAILED', message: `HTTP/2 cannot be served (--http-protocols ${settings.httpProtocols.join(',')}): ${describeError(error)}` }),
      );
    },
    drain() {
      if (draining) return;
      draining = true;
      for (const res of pending) if (!res.headersSent) res.shouldKeepAlive = false;
      // HTTP/2: GOAWAY, so that clients open no new streams; each connection closes once its streams are done.
      http2?.drain();
      if (servers.length === 0) return sendBack({ type: 'KIND.DRAINED' });
      let open = servers.length;
      // Stop accepting, but do not cut idle keep-alive connections (http.Server#close would): a
      // client may be sending on one right now and would see a reset. Each ends after its next
      // response (sent with Connection: close) or when its keep-alive timeout passes. Upgraded
      // connections (WebSockets) are the app's: they end when it closes them, or at the graceful timeout.
      for (const server of servers) {
        net.Server.prototype.close.call(server, () => {
          open -= 1;
          if (open === 0) sendBack({ type: 'KIND.DRAINED' });
        });
      }
    },
    stop() {
      stopped = true;
      // The graceful timeout has passed (or a quick stop): say which requests are cut, not only that the worker exits.
      const now = process.hrtime.bigint();
      for (const res of pending) {
        const ageSeconds = Number(now - (res as TimedResponse)[startedAtKey]!) / 1e9;
        logger.warning(`Worker (pid: ${process.pid}) cutting a request in flight for ${ageSeconds.toFixed(1)} s: ${requestLine(res.req)}`);
      }
      http2?.stop();
      for (const server of servers) {
        server.close();
        server.closeAllConnections();
      }
    },
  };
}
