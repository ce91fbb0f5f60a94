// What app code uses: `dirty.execute('name', ...args)` and `dirty.stream(...)`.
// Calls go to the arbiter's dirty router over its unix socket (one connection
// per process or thread, opened at the first call); arguments and results
// cross as msgpack. Nothing here blocks the caller's event loop.
import net from 'node:net';
import { DirtyError } from '../errors.js';
import { FrameDecoder, encodeFrame } from '../ipc/frame-codec.js';
import { type CallReply, type CallRequest, type StreamAck, DIRTY_MAX_MESSAGE_ENV, DIRTY_SOCKET_ENV, FRAME_OVERHEAD_BYTES, asCallReply, decodePayload, encodePayload } from './dirty-protocol.js';

export interface DirtyCallOptions {
  /** Seconds this call may take (waiting for a free dirty process included); 0: no limit. Default: --dirty-timeout. */
  timeout?: number;
}

interface Waiting {
  onReply(reply: CallReply): void;
  onGone(error: DirtyError): void;
}

/** One connection to the router, shared by every call of this process (or thread). */
class RouterConnection {
  private socket: net.Socket | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  constructor(
    private readonly path: string,
    private readonly maxMessageBytes: number,
  ) {}

  /** Sends a call; gives back `done` (forget it) and `ack` (a stream's chunk was taken). */
  call(request: Omit<CallRequest, 'id' | 't'>, waiting: Waiting): { done: () => void; ack: () => void; cancel: () => void } {
    const id = this.nextId++;
    this.waiting.set(id, waiting);
    const socket = this.open();
    // Only calls in flight keep the process alive, not the idle connection.
    socket.ref();
    socket.write(encodeFrame({ t: 'call', id, ...request } satisfies CallRequest));
    return {
      done: () => this.settled(id),
      ack: () => {
        if (this.waiting.has(id) && !socket.destroyed) socket.write(encodeFrame({ t: 'ack', id } satisfies StreamAck));
      },
      cancel: () => {
        if (this.waiting.has(id) && !socket.destroyed) socket.write(encodeFrame({ t: 'cancel', id } satisfies StreamAck));
        this.settled(id);
      },
    };
  }

  private settled(id: number) {
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.socket?.unref();
  }

  private open(): net.Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = net.connect(this.path);
    const decoder = new FrameDecoder(this.maxMessageBytes + FRAME_OVERHEAD_BYTES);
    socket.on('data', (chunk: Buffer) => {
      const { messages, error } = decoder.push(chunk);
      for (const raw of messages) {
        const reply = asCallReply(raw);
        if (reply) this.waiting.get(reply.id)?.onReply(reply);
      }
      if (error) socket.destroy(error);
    });
    const gone = (error?: Error) => {
      if (this.socket === socket) this.socket = undefined;
      const reason = error ? ` (${error.message})` : '';
      for (const waiting of [...this.waiting.values()]) {
        waiting.onGone(new DirtyError('CORRAL_ERR_DIRTY_UNAVAILABLE', `the connection to corral's dirty router closed before the answer came${reason}; the server may be stopping`));
      }
      this.waiting.clear();
    };
    socket.once('error', gone);
    socket.once('close', () => gone());
    this.socket = socket;
    return socket;
  }
}

let shared: RouterConnection | undefined;

function connection(): RouterConnection {
  const path = process.env[DIRTY_SOCKET_ENV];
  if (!path) {
    throw new DirtyError(
      'CORRAL_ERR_DIRTY_UNAVAILABLE',
      'no dirty pool: start corral with --dirty-app MODULE (dirty calls work in the workers of a server that has one)',
    );
  }
  shared ??= new RouterConnection(path, Number(process.env[DIRTY_MAX_MESSAGE_ENV]) || 16 * 1024 * 1024);
  return shared;
}

function prepare(name: string, args: unknown[], options: DirtyCallOptions, stream: boolean): Omit<CallRequest, 'id' | 't'> {
  if (typeof name !== 'string' || name === '') throw new DirtyError('CORRAL_ERR_DIRTY_NO_FUNCTION', 'a dirty call needs the name of a function its module exports');
  const limit = Number(process.env[DIRTY_MAX_MESSAGE_ENV]) || 16 * 1024 * 1024;
  const encoded = encodePayload(args);
  if (encoded.length > limit) {
    throw new DirtyError('CORRAL_ERR_DIRTY_TOO_LARGE', `the arguments of dirty call '${name}' are ${encoded.length} bytes as msgpack, over --dirty-max-message (${limit} bytes): send less (a key, a path), or raise the limit`);
  }
  const timeoutMs = options.timeout === undefined ? undefined : Math.max(0, Math.round(options.timeout * 1000));
  return { name, args: encoded, stream, timeoutMs };
}

const asError = (reply: Extract<CallReply, { t: 'error' }>) => new DirtyError(reply.code, reply.message);

export interface DirtyClient {
  /** Runs the dirty module's function `name` in a dirty process; resolves with what it returns. */
  execute<T = unknown>(name: string, ...args: unknown[]): Promise<T>;
  /** Runs a generator function (or any function returning an iterable) and yields its chunks as they come. */
  stream<T = unknown>(name: string, ...args: unknown[]): AsyncGenerator<T, void, undefined>;
  /** The same calls with options: `dirty.with({ timeout: 2 }).execute(...)`. */
  with(options: DirtyCallOptions): DirtyClient;
}

function client(options: DirtyCallOptions): DirtyClient {
  return {
    execute<T>(name: string, ...args: unknown[]): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const request = prepare(name, args, options, false);
        const { done } = connection().call(request, {
          onReply(reply) {
            if (reply.t === 'chunk') return;
            done();
            if (reply.t === 'error') reject(asError(reply));
            else if (reply.t === 'result') resolve(decodePayload(reply.value) as T);
            else resolve(undefined as T);
          },
          onGone: reject,
        });
      });
    },
    async *stream<T>(name: string, ...args: unknown[]): AsyncGenerator<T, void, undefined> {
      const request = prepare(name, args, options, true);
      const chunks: Uint8Array[] = [];
      let ended = false;
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      const { done, ack, cancel } = connection().call(request, {
        onReply(reply) {
          if (reply.t === 'chunk' || reply.t === 'result') chunks.push(reply.value);
          else {
            done();
            ended = true;
            if (reply.t === 'error') failure = asError(reply);
          }
          wake?.();
        },
        onGone(error) {
          ended = true;
          failure = error;
          wake?.();
        },
      });
      try {
        while (true) {
          if (chunks.length > 0) {
            yield decodePayload(chunks.shift()!) as T;
            // Taken: the dirty process may send another.
            ack();
            continue;
          }
          if (failure) throw failure;
          if (ended) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        // A reader that stops early: the dirty process closes the generator and takes the next call.
        if (!ended) cancel();
      }
    },
    with: (more) => client({ ...options, ...more }),
  };
}

/** Calls into the dirty pool (--dirty-app) from app code, in any worker kind. */
export const dirty: DirtyClient = client({});
