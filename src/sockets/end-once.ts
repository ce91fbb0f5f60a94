// node's HTTP server ends a connection again when the client closes its side
// (its 'end' listener calls socket.end()), although the connection's last
// answer ended it already. Writable.end then builds an
// ERR_STREAM_ALREADY_FINISHED, stack trace and all, only to drop it: there is
// no callback to give it to. On connections that carry one request each
// (Connection: close, the sync kind) that was one thrown-away error per request.
// An end with nothing to write and nobody to call
// back, on a socket already ended, changes nothing: it is skipped.
import type { Socket } from 'node:net';

function endOnce(this: Socket, ...args: unknown[]): Socket {
  if (args.length === 0 && this.writableEnded) return this;
  return Reflect.apply(Object.getPrototypeOf(this).end as (...args: unknown[]) => Socket, this, args);
}

/** From now on, `socket.end()` on the ended `socket` returns at once; every other end is node's. */
export function skipSecondEnd(socket: Socket): void {
  (socket as unknown as { end: typeof endOnce }).end = endOnce;
}
