// Waiting, with the worker asleep, for a just-accepted connection's first bytes:
// a worker that accepts for itself serves a connection whose request has begun
// and hands one still silent to the arbiter (see src/kinds/sync.ts). It reads
// through the socket, so it wakes as soon as they come; when the wait is over,
// reading stops, and what comes later stays in the kernel for whoever the
// socket is handed to.
import type { Socket } from 'node:net';
import { monotonicMs } from '../monotonic-ms.js';
import { stopReading } from './stop-reading.js';

/**
 * Calls `done` once with the first bytes `socket` sends, within `graceMs`: an empty buffer if none came (the
 * socket is left as accepted, reading nothing, to be handed on), `'closed'` if the client closed or reset it;
 * and how long it waited, in ms.
 */
export function awaitFirstBytes(socket: Socket, graceMs: number, done: (first: Buffer | 'closed', waitedMs: number) => void): void {
  const startedAt = monotonicMs();
  let settled = false;
  const settle = (first: Buffer | 'closed') => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('end', onGone);
    socket.off('error', onGone);
    socket.off('close', onGone);
    done(first, monotonicMs() - startedAt);
  };
  const onGone = () => settle('closed');
  const onReadable = () => {
    const chunk: Buffer | null = socket.read();
    if (chunk) settle(chunk);
    else if (socket.readableEnded) onGone();
  };
  const onTimer = () => {
    // Timers count from the time cached when the loop turn began: after a long turn, this one can fire before
    // the loop has looked for input once. The wait is whole, by the clock, or it goes on for what is left.
    const left = graceMs - (monotonicMs() - startedAt);
    if (left > 0) return void (timer = setTimeout(onTimer, Math.max(1, left)));
    const late: Buffer | null = socket.read();
    if (late) return settle(late);
    // Whatever comes now stays in the kernel, for the arbiter to read.
    stopReading(socket);
    settle(Buffer.alloc(0));
  };
  let timer = setTimeout(onTimer, graceMs);
  socket.on('end', onGone);
  socket.on('error', onGone);
  socket.on('close', onGone);
  socket.on('readable', onReadable);
}
