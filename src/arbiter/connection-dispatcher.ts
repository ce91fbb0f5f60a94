// For dispatched kinds (sync): the arbiter accepts on the listeners, keeps each
// connection unread (pauseOnConnect), and hands it to a worker that offered an
// idle slot, passing the socket itself (SCM_RIGHTS over node's fd channel). A
// busy worker is never handed a connection, so none waits behind a slow request
// while another worker is free.
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Logger } from '../log/logger.js';
import type { BoundListener } from '../sockets/listeners.js';

export interface ConnectionDispatcher {
  /** A worker can take one more connection. */
  offer(workerId: string, child: ChildProcess): void;
  /** The worker is gone or leaving: take back its slots. */
  forget(workerId: string): void;
  /** Stop accepting; connections still queued are handed out while workers offer slots. */
  close(): void;
}

export const DISPATCH_MESSAGE = 'corral:connection';

export function startDispatcher(listeners: readonly BoundListener[], backlog: number, logger: Logger): ConnectionDispatcher {
  const queue: net.Socket[] = [];
  const slots: { workerId: string; child: ChildProcess }[] = [];

  const pump = () => {
    while (queue.length > 0 && slots.length > 0) {
      const socket = queue.shift()!;
      if (socket.destroyed) continue;
      const { workerId, child } = slots.shift()!;
      if (!child.connected) {
        queue.unshift(socket);
        continue;
      }
      child.send({ type: DISPATCH_MESSAGE }, socket, (error) => {
        if (!error) return;
        // The worker went away between offering and receiving: give the connection to another.
        logger.debug(`Could not hand a connection to ${workerId}: ${error.message}`);
        if (!socket.destroyed) {
          queue.unshift(socket);
          pump();
        }
      });
    }
  };

  const servers = listeners.map((listener) => {
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
      if (queue.length >= backlog) {
        socket.destroy();
        logger.warning(`Connection queue full (${backlog}, --backlog): refusing a connection`);
        return;
      }
      socket.on('error', () => {});
      queue.push(socket);
      pump();
    });
    server.on('error', (error) => logger.error(`${listener.url}: ${error.message}`));
    server.listen({ fd: listener.fd, backlog });
    return server;
  });

  return {
    offer(workerId, child) {
      slots.push({ workerId, child });
      pump();
    },
    forget(workerId) {
      for (let index = slots.length - 1; index >= 0; index -= 1) if (slots[index].workerId === workerId) slots.splice(index, 1);
    },
    close() {
      for (const server of servers) net.Server.prototype.close.call(server);
    },
  };
}
