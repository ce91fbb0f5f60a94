// Ending a connection without losing the answer on it: closing a socket while
// the client's bytes are still unread makes the system reset the connection,
// and a reset makes the client's system drop the answer it has not read yet.
import type { Socket } from 'node:net';

/** How long a connection that was answered for the last time keeps reading what its client still sends. */
export const LINGER_MS = 2000;

/**
 * Ends our side (after `last`, if given), then reads and drops what the client
 * still sends until it closes, or LINGER_MS passes; then closes.
 */
export function endLingering(socket: Socket, last?: string): void {
  if (socket.writable) {
    if (last === undefined) socket.end();
    else socket.end(last);
  }
  if (socket.destroyed) return;
  const close = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  // The open socket keeps the process alive meanwhile; the timer need not.
  const timer = setTimeout(close, LINGER_MS).unref();
  socket.once('end', close);
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
}
