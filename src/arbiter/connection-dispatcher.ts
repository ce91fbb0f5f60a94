// The dispatch connection source (for the sync kind): the arbiter accepts on the
// listeners and gives each connection to a worker that offered an idle slot,
// passing the socket itself (SCM_RIGHTS over node's fd channel). So a busy worker
// is never handed a connection while another is free.
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
import type { DispatchFromWorker, HandedConnection } from '../ipc/dispatch-messages.js';
import type { Logger } from '../log/logger.js';
import { endLingering } from '../sockets/end-lingering.js';
import type { BoundListener } from '../sockets/listeners.js';

export interface ConnectionDispatcher {
  /** A worker spawned with node's fd channel: its offers, and what it took, arrive on it. */
  attach(workerId: string, child: ChildProcess): void;
  /** The worker is leaving: no more connections for it. */
  retire(workerId: string): void;
  /** Stop accepting; the connections still held are answered 503 (or closed, if they said nothing). */
  close(): void;
}

export interface DispatcherOptions {
  listeners: readonly BoundListener[];
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

export function startDispatcher({ listeners, backlog, headerTimeoutMs, logger }: DispatcherOptions): ConnectionDispatcher {
  /** Accepted, nothing received yet. */
  const silent = new Set<net.Socket>();
  const queue: Held[] = [];
  /** One entry per idle slot offered, oldest first. */
  const slots: string[] = [];
  const workers = new Map<string, DispatchedWorker>();
  let nextId = 0;
  let closed = false;

  const answerStopping = (held: Held) => endLingering(held.socket, STOPPING_ANSWER);

  const pump = () => {
    while (queue.length > 0 && slots.length > 0) {
      const workerId = slots.shift()!;
      const worker = workers.get(workerId);
      if (!worker || worker.leaving || !worker.child.connected) continue;
      const held = queue.shift()!;
      if (held.socket.destroyed) {
        slots.unshift(workerId);
        continue;
      }
      worker.handed.set(held.id, held);
      const message: HandedConnection = { type: 'corral:connection', id: held.id, head: held.head.toString('base64') };
      // keepOpen: this copy stays until the worker says it took the connection.
      worker.child.send(message, held.socket, { keepOpen: true }, (error) => {
        if (!error) return;
        logger.debug(`Could not hand a connection to ${workerId}: ${error.message}`);
        giveBack(worker, held.id);
      });
    }
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
      if (!closed) logger.warning(`Connection queue full (${backlog}, --backlog): refusing a connection`);
      return;
    }
    socket.on('error', () => {});
    silent.add(socket);
    const timer = headerTimeoutMs > 0 ? setTimeout(() => socket.destroy(), headerTimeoutMs) : undefined;
    timer?.unref();
    // With a high-water mark of 0 the socket reads one chunk, then stops reading until it is read from.
    socket.once('readable', () => {
      clearTimeout(timer);
      silent.delete(socket);
      const head = socket.read() as Buffer | null;
      // Closed (or reset) without a word.
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

  const servers = listeners.map((listener) => {
    const server = net.createServer({ pauseOnConnect: true, highWaterMark: 0 }, accept);
    server.on('error', (error) => logger.error(`${listener.url}: ${error.message}`));
    server.listen({ fd: listener.fd, backlog });
    return server;
  });

  const onMessage = (worker: DispatchedWorker, workerId: string) => (message: DispatchFromWorker) => {
    switch (message?.type) {
      case 'corral:idle':
        if (worker.leaving) return;
        slots.push(workerId);
        return pump();
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
        forgetSlots(workerId);
        for (const id of [...worker.handed.keys()]) giveBack(worker, id);
      };
      child.once('close', release);
      child.once('exit', () => setTimeout(release, RELEASE_AFTER_EXIT_MS).unref());
    },
    retire(workerId) {
      const worker = workers.get(workerId);
      if (worker) worker.leaving = true;
      forgetSlots(workerId);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const server of servers) net.Server.prototype.close.call(server);
      for (const socket of silent) socket.destroy();
      silent.clear();
      const waiting = queue.splice(0);
      if (waiting.length > 0) logger.info(`Answering ${waiting.length} connection(s) not yet served 503: the server is stopping`);
      for (const held of waiting) answerStopping(held);
    },
  };
}
