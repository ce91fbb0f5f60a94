// A worker's side of connection dispatch (see src/ipc/dispatch-messages.ts):
// offer idle slots, receive sockets with the bytes the arbiter already read, and
// say at once whether each is taken (the arbiter then closes its copy) or
// declined (it goes to another worker). All on node's fd-passing channel.
// For 'idle-accept' kinds, also accept on the first listening socket while idle,
// and hand the arbiter what was accepted here but is not served here.
import net, { type Socket } from 'node:net';
import { type DispatchFromWorker, type DispatchToWorker, IDLE_ACCEPT_FD, isHandedConnection } from '../ipc/dispatch-messages.js';
import type { ConnectionDispatch } from '../kinds/contract.js';
import { stopReading } from '../sockets/stop-reading.js';

const tell = (message: DispatchFromWorker, handle?: unknown, done?: (error: Error | null) => void) => {
  // The channel is gone only when the arbiter is: the worker is on its way out then.
  if (process.connected) process.send!(message, handle as net.Socket | undefined, done);
  else done?.(new Error('the channel to the arbiter is closed'));
};

/** A listen or accept that failed (descriptors run out) is tried again after this. */
const RETRY_ACCEPT_MS = 1000;

/**
 * Accepts one connection at a time on the first listening socket, only while asked to. libuv accepts while a
 * listening handle is open (in a loop before libuv 1.45, one connection per wake-up since), and only a closed
 * handle stops it; so once a connection is taken, the handle is closed unless the worker has asked for the next
 * one by the end of that connection's turn. node runs every tick and microtask queued in that turn before libuv
 * accepts again, and a quick answer (the app answered at once, and node finished writing it) is done by then:
 * the worker is free, asks again, and the handle stays open, so the next connection waiting is accepted at the
 * next wake-up with no listen or close between. A worker still busy then has closed its handle: it never takes
 * a connection it cannot serve now. One server serves every idle spell (a closed server listens again).
 */
function oneAtATime(backlog: number) {
  const server = net.createServer({ pauseOnConnect: true });
  /** What to do with the next connection; set while the worker is idle and asks for one. */
  let wanted: { accepted: (socket: Socket) => void; failed: (error: Error) => void } | undefined;
  let retry: NodeJS.Timeout | undefined;
  const close = () => {
    if (server.listening) server.close();
  };
  const stop = () => {
    clearTimeout(retry);
    retry = undefined;
    wanted = undefined;
    close();
  };
  // A failed listen is reported to 'error' (in a later tick), never thrown.
  const listen = () => {
    if (wanted && !server.listening) server.listen({ fd: IDLE_ACCEPT_FD, backlog });
  };
  // Queued as a connection is taken, so it runs once the ticks of that turn are done.
  const closeUnlessWantedAgain = () => {
    if (!wanted) close();
  };
  server.on('connection', (socket: Socket) => {
    const taking = wanted;
    if (!taking) return void socket.destroy();
    wanted = undefined;
    queueMicrotask(closeUnlessWantedAgain);
    taking.accepted(socket);
  });
  server.on('error', (error) => {
    const report = wanted?.failed;
    if (!report) return;
    // A listen or an accept that failed (descriptors run out): stop listening, and try again while still asked to.
    close();
    report(error);
    clearTimeout(retry);
    retry = setTimeout(() => {
      retry = undefined;
      listen();
    }, RETRY_ACCEPT_MS);
  });
  return (accepted: (socket: Socket) => void, failed: (error: Error) => void): (() => void) => {
    const wish = { accepted, failed };
    wanted = wish;
    if (!retry) listen();
    return () => {
      if (wanted === wish) stop();
    };
  };
}

export function dispatchedConnections({ idleAccept, backlog }: { idleAccept: boolean; backlog: number }): ConnectionDispatch {
  const acceptOne = idleAccept ? oneAtATime(backlog) : undefined;
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
    ...(acceptOne ? { acceptOne } : {}),
    handBack(socket, head, sent) {
      // The raw handle, not the socket: the arbiter wraps it to read no more than the request's first bytes.
      // A raw handle is not closed by the send: this process's copy is closed once it is written.
      const handle = (socket as Socket & { _handle?: unknown })._handle;
      if (!handle) {
        socket.destroy();
        return sent();
      }
      // This process reads no more of it (a socket that waited for its first bytes was reading): what comes
      // next is the arbiter's to read, not lost here before the copy is closed.
      stopReading(socket);
      tell({ type: 'corral:handed-back', head: head.toString('base64') }, handle, () => {
        socket.destroy();
        sent();
      });
    },
  };
}
