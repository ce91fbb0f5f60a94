// The sync kind: one request at a time per process, for apps that block (sync
// fs or database calls, CPU work). Every response is `Connection: close`, so a
// pipelined second request is never served on that connection. Only an idle
// worker accepts (gunicorn's model): it listens on the first listening socket
// while idle, and stops once it holds a connection it has not answered by the
// end of that connection's turn (one answered at once leaves it free to take
// the next in the same turn, as gunicorn's accept loop does; see
// src/worker/dispatched-connections.ts), so a busy worker never takes one
// while another is free. A connection that has said nothing yet is handed
// to the arbiter, which holds it until it speaks; while connections wait there
// (those, and those of the other listening sockets) each worker, once idle,
// offers itself to the arbiter instead of accepting (see
// src/arbiter/connection-dispatcher.ts). Draining stops both at once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fromCallback } from 'xstate';
import type { RecognisedApp } from '../app/recognise-app.js';
import { createHttpServer } from '../http/http-server.js';
import { awaitFirstBytes } from '../sockets/await-first-bytes.js';
import { bytesWaiting } from '../sockets/bytes-waiting.js';
import { waitBudget } from '../sockets/wait-budget.js';
import { requestListenerFor } from '../http/request-listener.js';
import type { KindDependencies, WorkerKind } from './contract.js';
import { alpnProtocols } from '../http/http-protocols.js';

/**
 * How long a connection accepted here may say nothing before it goes to the arbiter. A client sends its request
 * as soon as it is connected, but on a busy machine it may not have run yet: the worker sleeps until the first
 * bytes come (or this passes), which gives the client the CPU to send them. Before, the worker looked again
 * within the same two loop turns, never sleeping, so a client sharing its core could not send in time, and one
 * connection in about 14 under load took the round trip through the arbiter and back (about 40 % more CPU a
 * request). Only a client that really is silent (a browser's preconnect, an attack) holds the worker this long.
 */
const SILENT_GRACE_MS = 2;
/**
 * The share of a worker's time that graces ending in silence may take (and the most at once, in ms): past it, a
 * silent connection goes to the arbiter at once, so a flood of connections that never speak costs each worker
 * at most 5 % of its time, not all of it (at 2 ms each, 500 a second would hold a worker for good).
 */
const SILENT_GRACE_SHARE = 0.05;
const SILENT_GRACE_BURST_MS = 50;

function create({ counters, logger, observers, dispatch, settings, tls }: KindDependencies) {
  return fromCallback<{ type: 'DRAIN' }, { app: unknown }>(({ input, sendBack, receive }) => {
    const acceptOne = dispatch?.acceptOne;
    if (!dispatch || !acceptOne) {
      sendBack({ type: 'KIND.FAILED', message: 'the sync kind needs the first listening socket and the connections dispatched by the arbiter' });
      return () => {};
    }
    const handler = requestListenerFor(input.app as RecognisedApp, logger);
    let draining = false;
    /** The connection served, or being looked at after this worker accepted it. */
    let active: Socket | undefined;
    /** An idle slot is offered to the arbiter and not yet answered. */
    let offered = false;
    /** Connections wait at the arbiter: the next idle spell is offered to it instead of accepting. */
    let arbiterWaiting = false;
    let stopAccepting: (() => void) | undefined;
    /** The kind was stopped: it takes nothing more, whatever settles on the way out. */
    let stopped = false;
    const silentGraces = waitBudget(SILENT_GRACE_SHARE, SILENT_GRACE_BURST_MS);
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
    // Never listens: it serves the connections it accepts while idle and those it is handed.
    // HTTP/1.x only (one request at a time, Connection: close): TLS offers nothing else, whatever --http-protocols says.
    const server = createHttpServer({ settings, logger, tls: tls && { ...tls, ALPNProtocols: alpnProtocols(['h1']) }, onRequest });

    const accepting = () => {
      if (stopAccepting) return;
      stopAccepting = acceptOne(onAccepted, acceptFailed);
    };
    const acceptFailed = (error: Error) => logger.warning(`Worker (pid: ${process.pid}) cannot accept a connection: ${error.message}; trying again in a second`);
    const quitAccepting = () => {
      stopAccepting?.();
      stopAccepting = undefined;
    };
    /** Free for one more connection: from the arbiter if some wait there, else from the listening socket. */
    const idle = () => {
      if (stopped) return;
      if (draining) return sendBack({ type: 'KIND.DRAINED' });
      if (!arbiterWaiting) return accepting();
      quitAccepting();
      if (offered) return;
      offered = true;
      dispatch.offer({ reserved: true });
    };

    const serve = (socket: Socket, head: Buffer) => {
      quitAccepting();
      active = socket;
      // Once per connection, at its answer's end or its close, whichever comes first (a refused request has no answer).
      let done = false;
      const finished = () => {
        if (done) return;
        done = true;
        connectionDone.delete(socket);
        if (active === socket) active = undefined;
        idle();
      };
      connectionDone.set(socket, finished);
      socket.once('close', finished);
      // The bytes already read go first: the parser (or TLS) takes them from the socket's buffer before
      // anything newly read. Not resumed here: that would spill them past TLS.
      if (head.length > 0) socket.unshift(head);
      // One accepted here was paused at its accept (so nothing was read but the probe): unpaused as node leaves a
      // socket it has just accepted, which whatever reads it first sets flowing.
      if (socket.readableFlowing === false) (socket as { readableFlowing: boolean | null }).readableFlowing = null;
      server.emit('connection', socket);
    };

    const dropped = (socket: Socket) => {
      socket.destroy();
      active = undefined;
      idle();
    };
    /** Not served here: a silent one (it costs no worker: the arbiter holds it until it speaks), or this worker is draining. */
    const handBack = (socket: Socket, head: Buffer) =>
      dispatch.handBack(socket, head, () => {
        active = undefined;
        idle();
      });

    /** Accepted here: served if its request has begun within SILENT_GRACE_MS, else handed to the arbiter. */
    const onAccepted = (socket: Socket) => {
      stopAccepting = undefined;
      if (draining || active) return dispatch.handBack(socket, Buffer.alloc(0), () => {});
      active = socket;
      const head = bytesWaiting(socket);
      if (head === 'closed') return dropped(socket);
      if (head === 'unknown' || head.length > 0) return serve(socket, head === 'unknown' ? Buffer.alloc(0) : head);
      if (!silentGraces.allows()) return handBack(socket, head);
      awaitFirstBytes(socket, SILENT_GRACE_MS, (first, waitedMs) => {
        // A wait that brought no request (silence, or a client that left) is charged: a flood of either is bounded.
        if (first === 'closed' || first.length === 0) silentGraces.spend(waitedMs);
        if (first === 'closed') dropped(socket);
        else if (first.length > 0 && !draining) serve(socket, first);
        else handBack(socket, first);
      });
    };

    dispatch.onConnection((socket, head) => {
      offered = false;
      arbiterWaiting = false;
      // Draining (or busy, which an offer made only while idle rules out): not served here, and untouched,
      // so the arbiter can give it to another worker.
      if (stopped || draining || active) return false;
      serve(socket, head);
      return true;
    });
    dispatch.onWaiting(() => {
      arbiterWaiting = true;
      if (!active && !draining) idle();
    });
    dispatch.onAcceptAgain(() => {
      offered = false;
      arbiterWaiting = false;
      if (!active && !draining) idle();
    });

    receive((command) => {
      if (command.type !== 'DRAIN' || draining) return;
      draining = true;
      quitAccepting();
      if (!active) sendBack({ type: 'KIND.DRAINED' });
    });

    sendBack({ type: 'KIND.LISTENING' });
    idle();
    return () => {
      stopped = true;
      quitAccepting();
      active?.destroy();
      server.close();
    };
  });
}

export const syncKind: WorkerKind = {
  name: 'sync',
  description: 'one request at a time per process; only an idle worker accepts a connection',
  connections: 'idle-accept',
  http2: false,
  create,
};
