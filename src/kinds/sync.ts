// The sync kind: one request at a time per process, for apps that block (sync
// fs or database calls, CPU work). Every response is `Connection: close`, so a
// pipelined second request is never served on that connection. Connections come
// from the arbiter, one per idle slot this worker offers, once their request has
// begun to arrive: a busy worker is never handed one, nor an idle client (see
// src/arbiter/connection-dispatcher.ts). Draining stops the offers at once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fromCallback } from 'xstate';
import type { RecognisedApp } from '../app/recognise-app.js';
import { createHttpServer } from '../http/http-server.js';
import { requestListenerFor } from '../http/request-listener.js';
import type { KindDependencies, WorkerKind } from './contract.js';

function create({ counters, logger, observers, dispatch, settings, tls }: KindDependencies) {
  return fromCallback<{ type: 'DRAIN' }, { app: unknown }>(({ input, sendBack, receive }) => {
    if (!dispatch) {
      sendBack({ type: 'KIND.FAILED', message: 'the sync kind needs connections dispatched by the arbiter' });
      return () => {};
    }
    const handler = requestListenerFor(input.app as RecognisedApp, logger);
    let draining = false;
    let active: Socket | undefined;
    /** What frees the worker when a connection's answer is done. */
    const connectionDone = new WeakMap<object, () => void>();

    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      counters.inFlight += 1;
      res.shouldKeepAlive = false;
      const startedAt = process.hrtime.bigint();
      for (const observer of observers) observer.started?.(req, res);
      res.once('close', () => {
        counters.inFlight -= 1;
        counters.served += 1;
        for (const observer of observers) observer.finished?.(req, res, startedAt);
        // Its answer is done: the worker is free, while the connection lingers on by itself (see http-server.ts).
        connectionDone.get(req.socket)?.();
      });
      handler(req, res);
    };
    // Never listens: it only serves the connections it is handed.
    const server = createHttpServer({ settings, logger, tls, onRequest });

    dispatch.onConnection((socket, head) => {
      // Draining: not served here, and untouched, so the arbiter can give it to another worker.
      if (draining) return false;
      active = socket;
      // Once per connection, at its answer's end or its close, whichever comes first (a refused request has no answer).
      let done = false;
      const finished = () => {
        if (done) return;
        done = true;
        connectionDone.delete(socket);
        if (active === socket) active = undefined;
        if (draining) sendBack({ type: 'KIND.DRAINED' });
        else dispatch.offer();
      };
      connectionDone.set(socket, finished);
      socket.once('close', finished);
      // What the arbiter read to see the request begin goes first: the parser (or TLS) takes it from
      // the socket's buffer before anything newly read. Not resumed here: that would spill it past TLS.
      if (head.length > 0) socket.unshift(head);
      server.emit('connection', socket);
      return true;
    });

    receive((command) => {
      if (command.type !== 'DRAIN' || draining) return;
      draining = true;
      if (!active) sendBack({ type: 'KIND.DRAINED' });
    });

    sendBack({ type: 'KIND.LISTENING' });
    dispatch.offer();
    return () => {
      active?.destroy();
      server.close();
    };
  });
}

export const syncKind: WorkerKind = {
  name: 'sync',
  description: 'one request at a time per process; connections handed out by the arbiter to idle workers',
  connections: 'dispatched',
  create,
};
