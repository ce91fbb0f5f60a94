// A worker's side of connection dispatch (see src/ipc/dispatch-messages.ts):
// offer idle slots, receive sockets with the bytes the arbiter already read, and
// say at once whether each is taken (the arbiter then closes its copy) or
// declined (it goes to another worker). All on node's fd-passing channel.
// For 'idle-accept' kinds, also accept on the first listening socket while idle,
// and hand the arbiter what was accepted here but is not served here.
import net, { type Socket } from 'node:net';
import { type DispatchFromWorker, type DispatchToWorker, IDLE_ACCEPT_FD, isHandedConnection } from '../ipc/dispatch-messages.js';
import type { ConnectionDispatch } from '../kinds/contract.js';

const tell = (message: DispatchFromWorker, handle?: unknown, done?: (error: Error | null) => void) => {
  // The channel is gone only when the arbiter is: the worker is on its way out then.
  if (process.connected) process.send!(message, handle as net.Socket | undefined, done);
  else done?.(new Error('the channel to the arbiter is closed'));
};

/** A listen or accept that failed (descriptors run out) is tried again after this. */
const RETRY_ACCEPT_MS = 1000;

/**
 * Listens on the first listening socket until one connection is accepted, and closes the
 * listening handle in the same turn: libuv accepts in a loop while its handle is open, and a
 * closed handle ends that loop, so a worker never takes a second connection it cannot serve.
 */
function acceptOne(backlog: number, accepted: (socket: Socket) => void, failed: (error: Error) => void): () => void {
  let server: net.Server | undefined;
  let retry: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(retry);
    server?.close();
    server = undefined;
  };
  const listen = () => {
    const listening = net.createServer({ pauseOnConnect: true });
    server = listening;
    listening.on('connection', (socket: Socket) => {
      if (server !== listening) return void socket.destroy();
      stop();
      accepted(socket);
    });
    listening.on('error', (error) => {
      if (server !== listening) return;
      stop();
      failed(error);
      retry = setTimeout(listen, RETRY_ACCEPT_MS);
    });
    listening.listen({ fd: IDLE_ACCEPT_FD, backlog });
  };
  listen();
  return stop;
}

export function dispatchedConnections({ idleAccept, backlog }: { idleAccept: boolean; backlog: number }): ConnectionDispatch {
  return {
    offer: (options) => tell({ type: 'corral:idle', ...(options?.reserved ? { reserved: true } : {}) }),
    onConnection(take) {
      process.on('message', (message: unknown, socket?: Socket) => {
        if (!isHandedConnection(message) || !socket) return;
        // Decided in the same turn as the socket arrived, before this process could read from it. A kind
        // that throws while taking it has touched it: taken, so no other worker serves it too.
        let taken = true;
        try {
          taken = take(socket, Buffer.from(message.head, 'base64'));
        } finally {
          if (taken) tell({ type: 'corral:took', id: message.id });
          else {
            socket.destroy();
            tell({ type: 'corral:declined', id: message.id });
          }
        }
      });
    },
    onWaiting(waiting) {
      process.on('message', (message: DispatchToWorker | null) => {
        if (message?.type === 'corral:waiting') waiting();
      });
    },
    onAcceptAgain(resume) {
      process.on('message', (message: DispatchToWorker | null) => {
        if (message?.type === 'corral:accept-again') resume();
      });
    },
    ...(idleAccept ? { acceptOne: (accepted: (socket: Socket) => void, failed: (error: Error) => void) => acceptOne(backlog, accepted, failed) } : {}),
    handBack(socket, head, sent) {
      // The raw handle, not the socket: the arbiter wraps it to read no more than the request's first bytes.
      // A raw handle is not closed by the send: this process's copy is closed once it is written.
      const handle = (socket as Socket & { _handle?: unknown })._handle;
      if (!handle) {
        socket.destroy();
        return sent();
      }
      tell({ type: 'corral:handed-back', head: head.toString('base64') }, handle, () => {
        socket.destroy();
        sent();
      });
    },
  };
}
