// Writes text to one open descriptor without ever holding up the event loop
// for long and without ever throwing: what waits is kept in memory up to a
// cap; what cannot be written (a full disk, a closed pipe) or does not fit
// under the cap is dropped, and the caller is told how many lines that was.
//
// sonic-boom did this job before, but on a full disk its flushSync() retries
// the failed write forever (only EAGAIN/EBUSY reach its retry check; any other
// error sleeps 100 ms and loops), its write() keeps every unwritten line in
// memory, and a failed reopen() throws and leaves a listener that later closes
// the old descriptor twice. A log writer's contract here is the opposite on
// each count, so it is written out: a queue, one write in flight, and drops.
import { close, closeSync, constants, fstatSync, openSync, write, writeSync } from 'node:fs';
import { nodeBuiltin } from '../node-builtin.js';

/** One write() takes at most this much of the queue. */
const MAX_WRITE_BYTES = 64 * 1024;
/**
 * One write to a pipe takes at most this much, in whole lines: POSIX writes up to PIPE_BUF
 * bytes (4096 on Linux) to a pipe in one piece or not at all, so the lines of the processes
 * sharing it (the arbiter and its workers share stderr) never cut into each other. A bigger
 * write to a pipe with less room than that is taken in part, and another process's line lands
 * in the middle of the rest.
 */
const PIPE_BUF = 4096;
/** A pipe whose reader is slow (EAGAIN) is tried again after this long, never in a busy loop. */
const EAGAIN_RETRY_MS = 100;

export interface FdWriterOptions {
  /**
   * Tries each text at once with a synchronous write while nothing is queued
   * (the error log: a line is out before the process may die), when the
   * destination cannot keep it waiting (a file, /dev/null). Anything that must wait (EAGAIN) is queued
   * and written asynchronously like the rest. A pipe or a terminal is never
   * written with a write that can wait: its reader may stall (a paused
   * terminal, a supervisor that stopped reading), and a blocking write to it
   * would stop the process until the reader came back — signals untaken. It
   * is written through a non-blocking descriptor of its own where one can be
   * had, else asynchronously (a socket).
   */
  sync: boolean;
  /** Bytes waiting (in flight included) beyond which new text is dropped. */
  maxQueuedBytes: number;
  /** Closes the descriptor at end(); not for stdout/stderr. */
  owned: boolean;
  /** Lines that will never be written, and why. */
  onDropped: (lines: number, cause: string) => void;
}

/** Newlines in `bytes`: the lines a dropped chunk held (a partly written line counts as dropped). */
function countLines(bytes: Buffer): number {
  let lines = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines += 1;
  // A chunk without a newline is still (part of) a line.
  return Math.max(lines, bytes.length > 0 ? 1 : 0);
}

const isEagain = (error: NodeJS.ErrnoException) => error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK';

/**
 * A descriptor of its own, non-blocking, to the pipe or terminal `fd` is open on (Linux: /proc/self/fd),
 * so its O_NONBLOCK touches no other process sharing `fd`; undefined where that cannot be had (a socket).
 * Writes to it return EAGAIN instead of waiting: nothing ever waits on a stalled reader, not even a
 * thread of libuv's pool, which a process's exit waits for (a write stuck there would hold the exit for ever).
 */
function nonBlockingTwin(fd: number): number | undefined {
  try {
    return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
}

/** Whether a write to `fd` may wait as long as some reader pleases: a pipe, a socket or a terminal (not a file, /dev/null or /dev/full). */
function mayWaitOnAReader(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isSocket() || (stat.isCharacterDevice() && nodeBuiltin<typeof import('node:tty')>('node:tty').isatty(fd));
  } catch {
    return true;
  }
}

export class FdWriter {
  private readonly queue: Buffer[] = [];
  /** Bytes not yet written: queued and in flight. */
  private pendingBytes = 0;
  private inFlight = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private ending = false;
  private closed = false;
  private readonly endWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly mayBlock: boolean;
  /** For a pipe or terminal: written synchronously and without ever waiting (see nonBlockingTwin). */
  private readonly twin: number | undefined;

  constructor(
    readonly fd: number,
    private readonly options: FdWriterOptions,
  ) {
    this.mayBlock = mayWaitOnAReader(fd);
    this.twin = this.mayBlock ? nonBlockingTwin(fd) : undefined;
  }

  /** Bytes not yet written (for tests and diagnostics). */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  write(text: string): void {
    if (text === '') return;
    const bytes = Buffer.from(text, 'utf8');
    if (this.ending) return this.drop(bytes, 'the file was already closed');
    if (this.options.sync && !this.mayBlock && this.idle()) return this.writeNow(bytes);
    this.enqueue(bytes);
    this.pump();
  }

  /**
   * Best effort, synchronous, for a process about to exit: one attempt at what
   * is queued; on the first error the rest is dropped. Never waits or retries.
   */
  flushSync(): void {
    if (this.closed) return;
    // A write still waiting on a pipe's reader: one more, synchronous, could wait for ever.
    if (this.mayBlock && this.inFlight) {
      for (const rest of this.queue.splice(0)) this.drop(rest, 'the reader of this pipe or terminal is not taking what was written', true);
      return;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    while (this.queue.length > 0) {
      const chunk = this.queue[0];
      try {
        const written = writeSync(this.twin ?? this.fd, chunk);
        if (written === 0) throw new Error('the destination took no bytes');
        this.pendingBytes -= written;
        if (written < chunk.length) this.queue[0] = chunk.subarray(written);
        else this.queue.shift();
      } catch (error) {
        for (const rest of this.queue.splice(0)) this.drop(rest, (error as Error).message, true);
      }
    }
  }

  /** Resolves once everything queued is written, or after `deadlineMs` (a stalled reader): for a process about to exit. */
  drain(deadlineMs: number): Promise<void> {
    if (this.closed || this.idle()) return Promise.resolve();
    return new Promise((resolve) => {
      // Keeps the loop alive while it waits (a retry timer for a stalled pipe does not): bounded, then resolved.
      const timer = setTimeout(resolve, deadlineMs);
      this.idleWaiters.push(() => (clearTimeout(timer), resolve()));
    });
  }

  /** Writes out what is queued (asynchronously), then closes the descriptor if owned. */
  end(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ending = true;
    const done = new Promise<void>((resolve) => this.endWaiters.push(resolve));
    this.pump();
    return done;
  }

  private idle(): boolean {
    return this.queue.length === 0 && !this.inFlight && this.retryTimer === undefined;
  }

  private writeNow(bytes: Buffer): void {
    try {
      const written = writeSync(this.fd, bytes);
      if (written < bytes.length) {
        this.enqueue(bytes.subarray(written));
        this.pump();
      }
    } catch (error) {
      if (!isEagain(error as NodeJS.ErrnoException)) return this.drop(bytes, (error as Error).message);
      this.enqueue(bytes);
      this.retryLater();
    }
  }

  private enqueue(bytes: Buffer): void {
    if (this.pendingBytes + bytes.length > this.options.maxQueuedBytes) {
      return this.drop(bytes, `more than ${Math.round(this.options.maxQueuedBytes / 1024)} KB already waiting to be written (the destination does not keep up)`);
    }
    this.queue.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private drop(bytes: Buffer, cause: string, queued = false): void {
    if (queued) this.pendingBytes -= bytes.length;
    this.options.onDropped(countLines(bytes), cause);
  }

  private retryLater(): void {
    // Unref'd: a writer waiting on a stalled pipe must not keep a finished process alive.
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, EAGAIN_RETRY_MS).unref();
  }

  /** Starts the next asynchronous write, or finishes an end() once nothing is left. */
  private pump(): void {
    if (this.inFlight || this.retryTimer !== undefined || this.closed) return;
    if (this.queue.length === 0) {
      this.idleWaiters.splice(0).forEach((resolve) => resolve());
      if (this.ending) this.finish();
      return;
    }
    if (this.twin !== undefined) return this.writeTwin();
    const chunk = this.takeChunk(MAX_WRITE_BYTES);
    this.inFlight = true;
    write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      this.inFlight = false;
      if (error && isEagain(error)) {
        this.queue.unshift(chunk);
        return this.retryLater();
      }
      // A write that took nothing would be tried again forever: dropped instead.
      if (error || written === 0) this.drop(chunk, error?.message ?? 'the destination took no bytes', true);
      else {
        this.pendingBytes -= written;
        if (written < chunk.length) this.queue.unshift(chunk.subarray(written));
      }
      this.pump();
    });
  }

  /**
   * Synchronous writes that never wait, each of whole lines and at most PIPE_BUF bytes (one line
   * longer than that goes alone), up to MAX_WRITE_BYTES a turn: what the reader has no room for
   * now is tried again later.
   */
  private writeTwin(): void {
    for (let budget = MAX_WRITE_BYTES; budget > 0 && this.queue.length > 0; ) {
      const chunk = this.takeChunk(PIPE_BUF);
      let written: number;
      try {
        written = writeSync(this.twin!, chunk);
      } catch (error) {
        if (isEagain(error as NodeJS.ErrnoException)) {
          this.queue.unshift(chunk);
          return this.retryLater();
        }
        this.drop(chunk, (error as Error).message, true);
        continue;
      }
      if (written === 0) {
        this.drop(chunk, 'the destination took no bytes', true);
        continue;
      }
      this.pendingBytes -= written;
      if (written < chunk.length) {
        // The pipe is full for now (only a line longer than PIPE_BUF is ever taken in part).
        this.queue.unshift(chunk.subarray(written));
        return this.retryLater();
      }
      budget -= written;
    }
    // Later lines are taken on the next turn, not in a loop that could hold the event loop.
    if (this.queue.length > 0) setImmediate(() => this.pump());
    else this.pump();
  }

  /** Joins queued buffers up to `maxBytes` (a bigger one goes whole). */
  private takeChunk(maxBytes: number): Buffer {
    let count = 1;
    let size = this.queue[0].length;
    while (count < this.queue.length && size + this.queue[count].length <= maxBytes) size += this.queue[count++].length;
    const taken = this.queue.splice(0, count);
    return taken.length === 1 ? taken[0] : Buffer.concat(taken, size);
  }

  private finish(): void {
    this.closed = true;
    if (this.twin !== undefined) closeSync(this.twin);
    const resolveAll = () => this.endWaiters.splice(0).forEach((resolve) => resolve());
    if (!this.options.owned) return resolveAll();
    close(this.fd, () => resolveAll());
  }
}
