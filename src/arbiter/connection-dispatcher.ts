// The dispatch connection source (for the sync kind): the arbiter accepts on the
// listeners and gives each connection to a worker that offered an idle slot,
// passing the socket itself (SCM_RIGHTS over node's fd channel). So a busy worker
// is never handed a connection while another is free. For 'idle-accept' kinds the
// workers accept on the first listener themselves, while idle; what reaches the
// arbiter from there is what they hand back (connections silent so far). Such
// workers hold no standing offer (one would go stale the moment a worker accepts
// for itself): while connections wait here, the arbiter tells every worker, and
// each, once idle, stops accepting and offers; it gets a connection, or is told
// to accept again when none is left.
//
// No connection is left without an owner:
// - a connection is handed over only once its request has begun to arrive, so a
//   client that connects and says nothing costs no worker; the arbiter closes it
//   after --header-timeout. The bytes read to see that go along with the socket.
// - the arbiter keeps its copy of a handed socket until the worker says it took
//   it; one the worker declines (it is draining), or that it never took before
//   dying, goes to another worker (node's cluster RoundRobinHandle does the same:
//   the primary closes its handle only once the worker replies `accepted`).
// - a worker told to leave gets no more connections; when the server stops,
//   the connections still waiting here are answered 503 and closed.
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { DispatchFromWorker, DispatchToWorker, HandedConnection } from '../ipc/dispatch-messages.js';
import type { Logger } from '../log/logger.js';
import { endLingering } from '../sockets/end-lingering.js';
import type { BoundListener } from '../sockets/listeners.js';

/** Connections the arbiter closed without a worker serving them, by why (counted since it started). */
export interface RefusedConnections {
  /** Said nothing within --header-timeout. */
  silent: number;
  /** Came while --backlog connections were already held here. */
  shed: number;
  /** Still held when the server stopped: answered 503 (or closed, if they had said nothing). */
  stopping: number;
}

export interface ConnectionDispatcher {
  /** What has been refused so far. */
  refused(): RefusedConnections;
  /** A worker spawned with node's fd channel: its offers, and what it took, arrive on it. */
  attach(workerId: string, child: ChildProcess): void;
  /** The worker is leaving: no more connections for it. */
  retire(workerId: string): void;
  /**
   * Stop accepting; the connections still held are answered 503 (or closed, if they said nothing).
   * `answerBacklog`: so are those waiting on the listener the workers accept on (unless another
   * arbiter still serves on it).
   */
  close(options?: { answerBacklog?: boolean }): void;
}

export interface DispatcherOptions {
  listeners: readonly BoundListener[];
  /** The listener idle workers accept on themselves ('idle-accept' kinds): the arbiter accepts on it only to answer 503 at a stop. */
  acceptedByWorkers?: BoundListener;
  /** Most connections held here at once (waiting for a request or for a worker); past it new ones are closed. */
  backlog: number;
  /** A connection that sends nothing for this long is closed; 0 waits forever. */
  headerTimeoutMs: number;
  logger: Logger;
}

/** A connection whose request has begun: the bytes read so far travel with it. */
interface Held {
  id: number;
  socket: net.Socket;
  head: Buffer;
}

interface DispatchedWorker {
  child: ChildProcess;
  leaving: boolean;
  /** Handed over, not yet taken or declined. */
  handed: Map<number, Held>;
}

const STOPPING_ANSWER =
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 29\r\nConnection: close\r\n\r\nThe server is shutting down.\n';
/** A worker's last messages are read well within this after it exits. */
const RELEASE_AFTER_EXIT_MS = 500;

export function startDispatcher({ listeners, acceptedByWorkers, backlog, headerTimeoutMs, logger }: DispatcherOptions): ConnectionDispatcher {
  /** Accepted, nothing received yet. */
  const silent = new Set<net.Socket>();
  const queue: Held[] = [];
  /** One entry per standing idle slot offered, oldest first. */
  const slots: string[] = [];
  /** Workers that accept for themselves, told that connections wait here, that have not offered since. */
  const called = new Set<string>();
  const workers = new Map<string, DispatchedWorker>();
  let nextId = 0;
  let closed = false;
  const refused: RefusedConnections = { silent: 0, shed: 0, stopping: 0 };

  const answerStopping = (held: Held) => {
    refused.stopping += 1;
    endLingering(held.socket, STOPPING_ANSWER);
  };

  /** Hands `held` to `worker`; what the worker does not take comes back (see giveBack). */
  const handTo = (worker: DispatchedWorker, workerId: string, held: Held) => {
    worker.handed.set(held.id, held);
    const message: HandedConnection = { type: 'corral:connection', id: held.id, head: held.head.toString('base64') };
    // keepOpen: this copy stays until the worker says it took the connection.
    worker.child.send(message, held.socket, { keepOpen: true }, (error) => {
      if (!error) return;
      logger.debug(`Could not hand a connection to ${workerId}: ${error.message}`);
      giveBack(worker, held.id);
    });
  };

  const usable = (worker: DispatchedWorker | undefined): worker is DispatchedWorker => worker !== undefined && !worker.leaving && worker.child.connected;

  /** The next connection that still wants serving. */
  const nextHeld = (): Held | undefined => {
    while (queue.length > 0) {
      const held = queue.shift()!;
      if (!held.socket.destroyed) return held;
    }
    return undefined;
  };

  const pump = () => {
    // Standing offers ('dispatched' kinds), oldest first.
    while (queue.length > 0 && slots.length > 0) {
      const workerId = slots.shift()!;
      const worker = workers.get(workerId);
      if (!usable(worker)) continue;
      const held = nextHeld();
      if (!held) return void slots.unshift(workerId);
      handTo(worker, workerId, held);
    }
    // Workers that accept for themselves offer only when told something waits here.
    if (queue.length === 0 || !acceptedByWorkers) return;
    for (const [workerId, worker] of workers) {
      if (called.has(workerId) || !usable(worker)) continue;
      called.add(workerId);
      worker.child.send({ type: 'corral:waiting' } satisfies DispatchToWorker);
    }
  };

  /** A worker that was told something waits is idle, and accepts nothing for itself until answered. */
  const reservedOffer = (worker: DispatchedWorker, workerId: string) => {
    called.delete(workerId);
    const held = nextHeld();
    if (held) handTo(worker, workerId, held);
    else worker.child.send({ type: 'corral:accept-again' } satisfies DispatchToWorker);
    pump();
  };

  /** A connection a worker did not take goes to another, or is answered 503 if the server is stopping. */
  const giveBack = (worker: DispatchedWorker, id: number) => {
    const held = worker.handed.get(id);
    if (!held) return;
    worker.handed.delete(id);
    if (held.socket.destroyed) return;
    if (closed) return answerStopping(held);
    queue.unshift(held);
    pump();
  };

  const took = (worker: DispatchedWorker, id: number) => {
    const held = worker.handed.get(id);
    if (!held) return;
    worker.handed.delete(id);
    // Closes this process's fd only; the worker's copy carries the connection.
    held.socket.destroy();
  };

  const accept = (socket: net.Socket) => {
    if (closed || silent.size + queue.length >= backlog) {
      socket.destroy();
      if (closed) refused.stopping += 1;
      else {
        refused.shed += 1;
        logger.warning(`Connection queue full (${backlog}, --backlog): refusing a connection`);
      }
      return;
    }
    socket.on('error', () => {});
    silent.add(socket);
    const timer = headerTimeoutMs > 0 ? setTimeout(() => {
      refused.silent += 1;
      socket.destroy();
    }, headerTimeoutMs) : undefined;
    timer?.unref();
    // With a high-water mark of 0 the socket reads one chunk, then stops reading until it is read from.
    socket.once('readable', () => {
      clearTimeout(timer);
      silent.delete(socket);
      const head = socket.read() as Buffer | null;
      // Closed (or reset) without a word; or the server stopped meanwhile.
      if (head !== null && closed) refused.stopping += 1;
      if (head === null || closed) return void socket.destroy();
      nextId += 1;
      queue.push({ id: nextId, socket, head });
      pump();
    });
    socket.once('close', () => {
      clearTimeout(timer);
      silent.delete(socket);
    });
  };

  const servers = listeners.filter((listener) => listener !== acceptedByWorkers).map((listener) => {
    const server = net.createServer({ pauseOnConnect: true, highWaterMark: 0 }, accept);
    server.on('error', (error) => logger.error(`${listener.url}: ${error.message}`));
    server.listen({ fd: listener.fd, backlog });
    return server;
  });

  /** A connection a worker accepted and did not serve: held here like one accepted here. */
  const handedBack = (handle: unknown, head: Buffer) => {
    // Wrapped as node wraps what a server accepts: paused, reading one chunk at most when asked.
    const socket = new net.Socket({ handle, readable: true, writable: true, pauseOnCreate: true, highWaterMark: 0 } as net.SocketConstructorOpts);
    if (head.length === 0) return accept(socket);
    socket.on('error', () => {});
    if (closed) return answerStopping({ id: 0, socket, head });
    nextId += 1;
    queue.push({ id: nextId, socket, head });
    pump();
  };

  const onMessage = (worker: DispatchedWorker, workerId: string) => (message: DispatchFromWorker, handle?: unknown) => {
    switch (message?.type) {
      case 'corral:idle':
        if (!usable(worker)) return;
        if (message.reserved) return reservedOffer(worker, workerId);
        slots.push(workerId);
        return pump();
      case 'corral:handed-back':
        if (!handle) return;
        return handedBack(handle, Buffer.from(message.head, 'base64'));
      case 'corral:took':
        return took(worker, message.id);
      case 'corral:declined':
        return giveBack(worker, message.id);
    }
  };

  const forgetSlots = (workerId: string) => {
    for (let index = slots.length - 1; index >= 0; index -= 1) if (slots[index] === workerId) slots.splice(index, 1);
  };

  return {
    refused: () => ({ ...refused }),
    attach(workerId, child) {
      const worker: DispatchedWorker = { child, leaving: false, handed: new Map() };
      workers.set(workerId, worker);
      child.on('message', onMessage(worker, workerId));
      // What a worker that is gone did not take is still ours. 'close' comes after the exit and after every
      // message the worker sent has been read (node emits no 'disconnect' while a handle awaits the worker's
      // acknowledgement); a pipe a process of the app inherited can delay it, hence the bound after the exit.
      const release = () => {
        if (workers.get(workerId) !== worker) return;
        worker.leaving = true;
        workers.delete(workerId);
        called.delete(workerId);
        forgetSlots(workerId);
        for (const id of [...worker.handed.keys()]) giveBack(worker, id);
      };
      child.once('close', release);
      child.once('exit', () => setTimeout(release, RELEASE_AFTER_EXIT_MS).unref());
    },
    retire(workerId) {
      const worker = workers.get(workerId);
      if (worker) worker.leaving = true;
      called.delete(workerId);
      forgetSlots(workerId);
    },
    close({ answerBacklog = false } = {}) {
      if (closed) return;
      closed = true;
      for (const server of servers) net.Server.prototype.close.call(server);
      // What waits on the workers' listener now will not be served: answered 503 rather than reset.
      if (acceptedByWorkers && answerBacklog) {
        acceptedByWorkers.answerWaiting((socket) => {
          socket.on('error', () => {});
          refused.stopping += 1;
          endLingering(socket, STOPPING_ANSWER);
        });
      }
      refused.stopping += silent.size;
      for (const socket of silent) socket.destroy();
      silent.clear();
      const waiting = queue.splice(0);
      if (waiting.length > 0) logger.info(`Answering ${waiting.length} connection(s) not yet served 503: the server is stopping`);
      for (const held of waiting) answerStopping(held);
    },
  };
}
