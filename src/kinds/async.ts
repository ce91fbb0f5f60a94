// The async kind: node's http server on the event loop, many connections per
// process, keep-alive. The gevent/tornado role for Node apps.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { fromCallback } from 'xstate';
import type { RecognisedApp } from '../app/recognise-app.js';
import { requestListenerFor } from '../http/request-listener.js';
import type { KindDependencies, WorkerKind } from './contract.js';

// Kept on the response itself: a WeakMap entry per request costs far more (lookups, and ephemeron work in every GC).
const startedAtKey = Symbol('corral.startedAt');
type TimedResponse = ServerResponse & { [startedAtKey]?: bigint };

function create({ listeners, settings, counters, logger, observers }: KindDependencies) {
  return fromCallback<{ type: 'DRAIN' }, { app: unknown }>(({ input, sendBack, receive }) => {
    // Node-style apps are served as they are; only fetch-style ones go through the adapter.
    const handler = requestListenerFor(input.app as RecognisedApp, logger);
    const keepAliveMs = settings.keepAlive * 1000;
    const observe = observers.length > 0;
    let draining = false;
    const servers: http.Server[] = [];
    // Responses whose headers may not be out yet, so a drain can still make them the last on their connection.
    const pending = new Set<ServerResponse>();

    // One shared listener, not a closure per request: this runs for every response.
    function onResponseClose(this: ServerResponse) {
      counters.inFlight -= 1;
      counters.served += 1;
      pending.delete(this);
      if (observe) {
        const startedAt = (this as TimedResponse)[startedAtKey]!;
        for (const observer of observers) observer.finished?.(this.req, this, startedAt);
      }
    }

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
      handler(req, res);
    };

    let lastFullWarning = 0;
    const warnFull = () => {
      if (Date.now() - lastFullWarning < 1000) return;
      lastFullWarning = Date.now();
      logger.warning(`Worker (pid: ${process.pid}) is at --worker-connections ${settings.workerConnections}: closing new connections`);
    };

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

    receive((command) => {
      if (command.type !== 'DRAIN' || draining) return;
      draining = true;
      for (const res of pending) if (!res.headersSent) res.shouldKeepAlive = false;
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

    // Stopped with the machine (quick stop, or the graceful deadline passed): cut everything.
    return () => {
      for (const server of servers) {
        server.close();
        server.closeAllConnections();
      }
    };
  });
}

export const asyncKind: WorkerKind = {
  name: 'async',
  description: 'event loop, many connections per process, keep-alive',
  create,
};
