// What a just-accepted connection has already sent, read without waiting: a
// worker that accepts for itself serves a connection whose request has begun,
// and hands one that has said nothing yet to the arbiter (an idle client must
// not hold a worker). One non-blocking read(2) on the socket's descriptor (libuv
// opens every socket non-blocking): EAGAIN means nothing has arrived yet.
import { readSync } from 'node:fs';
import type { Socket } from 'node:net';

/** Read into once per probe and copied out: most requests' first bytes fit. */
const probe = Buffer.allocUnsafe(16 * 1024);

/**
 * The bytes waiting on `socket` (an empty buffer if none yet), or `'closed'` when the client
 * has closed or reset it. A socket paused since its accept, whose descriptor cannot be had,
 * is reported as `'unknown'`.
 */
export function bytesWaiting(socket: Socket): Buffer | 'closed' | 'unknown' {
  const fd = (socket as Socket & { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return 'unknown';
  try {
    const read = readSync(fd, probe, 0, probe.length, null);
    return read === 0 ? 'closed' : Buffer.from(probe.subarray(0, read));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return Buffer.alloc(0);
    return 'closed';
  }
}
