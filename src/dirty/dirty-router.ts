// The arbiter's dirty router: app code connects to its unix socket and sends
// calls; each waits in one bounded queue until a dirty process is free, goes to
// it over that process's pipe, and its reply goes back. The pool's chart says
// which processes may take calls and decides what a late call costs (the
// process); the router carries calls and says, with a code, why one failed.
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DirtyExit } from '../../machines/dirty-process.js';
import type { DirtyErrorCode } from '../errors.js';
import { FrameDecoder, encodeFrame } from '../ipc/frame-codec.js';
import type { Identity } from '../config/identity.js';
import type { Logger } from '../log/logger.js';
import type { DirtyProcessPipes } from './dirty-process-logic.js';
import { type CallReply, type CallRequest, FRAME_OVERHEAD_BYTES, type RouterToDirty, asCallRequest } from './dirty-protocol.js';
import { DirtyCallMetrics } from './dirty-metrics.js';

interface PendingCall {
  client: net.Socket;
  request: CallRequest;
  timeoutMs: number;
  arrivedAt: number;
  /** Rejects it if it waits in the queue past its deadline. */
  queueTimer?: NodeJS.Timeout;
}

interface RunningCall extends PendingCall {
  processId: string;
  startedAt: number;
}

export interface DirtyPoolView {
  /** Processes the chart lets take calls now (ready, not retiring). */
  callable(): string[];
  /** Tells a process's chart a call started (its deadline runs from now) or ended. */
  started(processId: string, callId: number, name: string, timeoutMs: number, limitMs: number): void;
  ended(processId: string, callId: number): void;
}

export interface DirtyRouterOptions {
  logger: Logger;
  queueLimit: () => number;
  /** Most argument bytes the waiting calls may hold together (one call alone is always taken). */
  queueBytesLimit: () => number;
  timeoutMs: () => number;
  maxMessageBytes: number;
  pool: DirtyPoolView;
  /** Workers running as --user: the socket's directory is theirs (still 0700), so they and the arbiter alone reach it. */
  owner?: Identity;
}

export interface DirtyRouter extends DirtyProcessPipes {
  socketPath: string;
  metrics: DirtyCallMetrics;
  queueLength(): number;
  /** Hands waiting calls to free processes. */
  dispatch(): void;
  /** A process is gone: what it ran fails with the code its exit cause calls for. */
  processExited(exit: DirtyExit): void;
  /** The pool is gone: what still waits fails; the socket closes. */
  close(): void;
}

export function startDirtyRouter({ logger, queueLimit, queueBytesLimit, timeoutMs, maxMessageBytes, pool, owner }: DirtyRouterOptions): Promise<DirtyRouter> {
  // A directory of the arbiter's own (0700): no other user can connect or swap the socket.
  const directory = mkdtempSync(join(tmpdir(), 'corral-dirty-'));
  const socketPath = join(directory, 'router.sock');
  const pipes = new Map<string, (message: RouterToDirty) => void>();
  const queue: PendingCall[] = [];
  /** The argument bytes the queue holds. */
  let queuedBytes = 0;
  const running = new Map<number, RunningCall>();
  const busy = new Set<string>();
  const metrics = new DirtyCallMetrics();
  let nextCallId = 1;
  let closed = false;

  const answer = (client: net.Socket, reply: CallReply) => {
    if (!client.destroyed) client.write(encodeFrame(reply));
  };
  const fail = (call: PendingCall, code: DirtyErrorCode, message: string) => {
    clearTimeout(call.queueTimer);
    answer(call.client, { t: 'error', id: call.request.id, code, message });
    metrics.failed(call.request.name, code, (Date.now() - call.arrivedAt) / 1000);
  };

  /** Takes the call at `index` out of the queue, its bytes and its queue deadline with it. */
  const unqueue = (index: number): PendingCall => {
    const [call] = queue.splice(index, 1);
    queuedBytes -= call.request.args.byteLength;
    clearTimeout(call.queueTimer);
    return call;
  };

  const dispatch = () => {
    if (closed) return;
    while (queue.length > 0) {
      const free = pool.callable().find((id) => !busy.has(id) && pipes.has(id));
      if (!free) return;
      const call = unqueue(0);
      const callId = nextCallId++;
      // The deadline counts from the call's arrival: time in the queue is time the caller waited.
      const remaining = call.timeoutMs > 0 ? Math.max(1, call.timeoutMs - (Date.now() - call.arrivedAt)) : 0;
      busy.add(free);
      running.set(callId, { ...call, processId: free, startedAt: Date.now() });
      pool.started(free, callId, call.request.name, remaining, call.timeoutMs);
      pipes.get(free)!({ t: 'call', id: callId, name: call.request.name, args: call.request.args, stream: call.request.stream });
    }
  };

  const finish = (callId: number) => {
    const call = running.get(callId)!;
    running.delete(callId);
    busy.delete(call.processId);
    pool.ended(call.processId, callId);
    return call;
  };

  const reply = (processId: string, message: CallReply) => {
    const call = running.get(message.id);
    if (!call || call.processId !== processId) return;
    const forward = { ...message, id: call.request.id } as CallReply;
    if (message.t === 'chunk') return answer(call.client, forward);
    finish(message.id);
    answer(call.client, forward);
    const seconds = (Date.now() - call.arrivedAt) / 1000;
    if (message.t === 'error') metrics.failed(call.request.name, message.code, seconds);
    else metrics.succeeded(call.request.name, seconds);
    dispatch();
  };

  const processExited = (exit: DirtyExit) => {
    pipes.delete(exit.id);
    busy.delete(exit.id);
    for (const [callId, call] of running) {
      if (call.processId !== exit.id) continue;
      running.delete(callId);
      const name = call.request.name;
      if (exit.cause === 'callTimeout') {
        fail(call, 'CORRAL_ERR_DIRTY_TIMEOUT', `dirty call '${name}' was not answered within ${call.timeoutMs} ms; the dirty process running it (pid ${exit.pid}) was replaced`);
      } else if (exit.cause === 'stopped') {
        fail(call, 'CORRAL_ERR_DIRTY_UNAVAILABLE', `dirty call '${name}' was cut: the dirty pool is stopping`);
      } else {
        const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
        fail(call, 'CORRAL_ERR_DIRTY_CRASHED', `the dirty process running '${name}' (pid ${exit.pid}) ${how}; it is being replaced. The call may be retried`);
      }
    }
    dispatch();
  };

  /** The app took a chunk of a stream (its dirty process may send one more), or stopped reading it. */
  const acknowledge = (client: net.Socket, id: number, t: 'ack' | 'cancel') => {
    for (const [callId, call] of running) {
      if (call.client === client && call.request.id === id) return pipes.get(call.processId)?.({ t, id: callId });
    }
  };

  const accept = (client: net.Socket, request: CallRequest) => {
    if (closed) return answer(client, { t: 'error', id: request.id, code: 'CORRAL_ERR_DIRTY_UNAVAILABLE', message: 'the dirty pool is stopping' });
    metrics.called(request.name);
    const call: PendingCall = { client, request, timeoutMs: timerMs(request.timeoutMs ?? timeoutMs()), arrivedAt: Date.now() };
    const size = request.args.byteLength;
    // Free means what dispatch() takes: callable, idle, and its pipe open (else the call would wait here unbounded).
    if (!pool.callable().some((id) => !busy.has(id) && pipes.has(id))) {
      if (queue.length >= queueLimit()) {
        return fail(call, 'CORRAL_ERR_DIRTY_QUEUE_FULL', `${queue.length} dirty calls are already waiting (--dirty-queue ${queueLimit()}): try later, or add dirty processes (--dirty-workers)`);
      }
      // Bounded in bytes too: --dirty-queue calls of --dirty-max-message each could exhaust the arbiter's memory.
      if (queue.length > 0 && queuedBytes + size > queueBytesLimit()) {
        return fail(call, 'CORRAL_ERR_DIRTY_QUEUE_FULL', `the ${queue.length} dirty calls already waiting hold ${queuedBytes} bytes of arguments; this one's ${size} would pass --dirty-queue-bytes (${queueBytesLimit()} bytes): try later, send less, or add dirty processes (--dirty-workers)`);
      }
    }
    if (call.timeoutMs > 0) {
      call.queueTimer = setTimeout(() => {
        const index = queue.indexOf(call);
        if (index < 0) return;
        unqueue(index);
        fail(call, 'CORRAL_ERR_DIRTY_TIMEOUT', `dirty call '${request.name}' waited ${call.timeoutMs} ms for a free dirty process (all busy); add some (--dirty-workers) or allow longer`);
      }, call.timeoutMs);
    }
    // Its own copy: the arguments are a view of the bytes read, which a small waiting call would keep whole.
    if (request.args.byteLength < request.args.buffer.byteLength) request.args = request.args.slice();
    queue.push(call);
    queuedBytes += size;
    dispatch();
  };

  const server = net.createServer((client) => {
    const decoder = new FrameDecoder(maxMessageBytes + FRAME_OVERHEAD_BYTES);
    client.on('error', () => {});
    client.on('data', (chunk: Buffer) => {
      const { messages, error } = decoder.push(chunk);
      for (const raw of messages) {
        const request = asCallRequest(raw);
        if (!request) {
          logger.warning('Dirty router: a client sent something that is not a call; closing its connection');
          return client.destroy();
        }
        if (request.t === 'call') accept(client, request);
        else acknowledge(client, request.id, request.t);
      }
      if (error) {
        logger.warning(`Dirty router: ${error.message}; closing that client's connection`);
        client.destroy();
      }
    });
    // Its waiting calls go; its streams are cancelled (nobody will read them); other running calls finish, their replies dropped.
    client.once('close', () => {
      for (const [callId, call] of running) if (call.client === client && call.request.stream) pipes.get(call.processId)?.({ t: 'cancel', id: callId });
      for (let index = queue.length - 1; index >= 0; index--) {
        if (queue[index].client === client) unqueue(index);
      }
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', (error) => {
      rmSync(directory, { recursive: true, force: true });
      reject(error);
    });
    server.listen(socketPath, () => {
      server.removeAllListeners('error');
      try {
        if (owner) {
          chownSync(socketPath, owner.uid, owner.gid);
          chownSync(directory, owner.uid, owner.gid);
        }
      } catch (error) {
        server.close();
        rmSync(directory, { recursive: true, force: true });
        return reject(error);
      }
      resolve({
        socketPath,
        metrics,
        queueLength: () => queue.length,
        dispatch: () => queueMicrotask(dispatch),
        processExited,
        attach: (id, send) => {
          pipes.set(id, send);
        },
        detach: (id) => void pipes.delete(id),
        reply,
        close() {
          closed = true;
          for (const call of queue.splice(0)) fail(call, 'CORRAL_ERR_DIRTY_UNAVAILABLE', 'the dirty pool stopped before the call could run');
          queuedBytes = 0;
          server.close();
          rmSync(directory, { recursive: true, force: true });
        },
      });
    });
  });
}

/** The longest a timer waits (node fires a longer one after 1 ms): a deadline past it (or Infinity) is no limit. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
const timerMs = (ms: number) => (Number.isFinite(ms) && ms <= LONGEST_TIMER_MS ? ms : 0);
