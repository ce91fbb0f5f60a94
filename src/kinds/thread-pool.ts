// The pool of the thread kind: --threads threads of a piscina pool, each with its
// own copy of the app, one long-lived message port each (no round trip per request
// beyond the one message each way a turn of the event loop needs). Requests go
// to the first thread with quick handlers that has room (QUICK_MICROS), else to
// an idle thread, else the least busy one under TASKS_PER_THREAD, else wait
// here in arrival order. A request past its deadline is answered 503
// and the thread running it is stopped and replaced; requests queued on that
// thread run again elsewhere when that is safe, and are answered 503 otherwise.
// piscina owns the threads: each runs one long task, a lane, that serves what
// arrives on the port it was handed until the lane is aborted, when piscina
// ends that thread and starts another for the lane that replaces it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AppOrigin, AppShape } from '../app/app-shape.js';
import { describeError } from '../errors.js';
import { answerFailure } from '../http/answer-failure.js';
import { requestLine } from '../http/request-line.js';
import type { Logger } from '../log/logger.js';
import { ForwardedRequest, type ForwardSink } from './thread-request-forward.js';
import { ABORT, CREDIT, DATA, FAIL, HANDLER_SLOTS, HANDLER_STARTED, HINTS, MessageBytes, type ThreadData, type ThreadStarted, type ToMain, type ToThread, handlerClockSince } from './thread-messages.js';

/**
 * Requests a thread holds at once. With one, a thread sits idle for every round
 * trip through the main thread's event loop; with a few it never waits. Idle
 * threads are always picked first, so a blocking app still spreads over the
 * whole pool; more would only lengthen the queue behind a request that hangs.
 */
const TASKS_PER_THREAD = 4;

export interface ThreadPoolOptions {
  appModule: string;
  cwd: string;
  threads: number;
  /** Seconds a request may take, queueing included; 0 for no limit. */
  timeoutSeconds: number;
  keepAliveMs: number;
  serverHeader: string;
  logger: Logger;
}

export interface LoadedApp {
  shape: AppShape;
  origin: AppOrigin;
}

/** What a lane task is handed: its end of the port, and what every thread needs to load and serve the app. */
export interface LaneTask {
  port: MessagePort;
  data: ThreadData;
  /** The handler times the lane shares (HANDLER_SLOTS): their running average, and when the one running began. */
  handlerMicros: Int32Array;
}

/**
 * Handlers that return within this (on average, in a thread) are quick: their
 * requests go to the first threads that have room, so a few threads serve
 * them in batches (one message each way for many requests, one warmed-up copy
 * of the code) while the others stay parked. Threads whose handlers block
 * longer get one request each, idle threads first, as before.
 */
const QUICK_MICROS = 250;
/**
 * Requests a thread with quick handlers holds at once: enough that one thread
 * takes all a worker's keep-alive load of a few dozen connections. Each
 * further thread that serves costs more than its share: its own copy of the
 * code to warm up and compile, and wake-ups for smaller batches (a hello world
 * at 50 connections took 46 µs of CPU a request with 16 here, 35 with 64). A
 * batch still goes back within TURN_MS (thread-task.ts), however many it holds.
 */
const QUICK_TASKS_PER_THREAD = 64;
/**
 * A handler of a quick thread that has run this long is stuck (a lock, a cold cache, a synchronous call):
 * the thread takes nothing more until it returns, rather than up to QUICK_TASKS_PER_THREAD requests that
 * would all wait behind it.
 */
const STUCK_MS = 2;

class PoolThread implements ForwardSink {
  readonly port: MessagePort;
  /** Written by the lane (see LaneTask); it starts out slow until its handlers are seen to be quick. */
  private readonly handlerMicros = new Int32Array(new SharedArrayBuffer(4 * HANDLER_SLOTS)).fill(QUICK_MICROS * 4, 0, 1);
  private readonly stop = new AbortController();
  /** Settles when the lane ends: rejected with the thread's error, or an AbortError once it is stopped. */
  readonly finished: Promise<unknown>;
  readonly requests = new Set<ForwardedRequest>();
  private outbox: Array<ToThread | ForwardedRequest> = [];
  /** Stopped, exited or failed: takes nothing more. */
  gone = false;
  /** Its app could not load: it is not given requests. */
  broken = false;

  constructor(
    piscina: Piscina,
    data: ThreadData,
    readonly number: number,
    private readonly schedule: (thread: PoolThread) => void,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.finished = piscina.run({ port: port2, data, handlerMicros: this.handlerMicros } satisfies LaneTask, {
      transferList: [port2],
      signal: this.stop.signal,
    });
  }

  /** Its handlers return quickly, and the one it runs now (if any) has not been at it for long. */
  get quick() {
    return this.handlerMicros[0] < QUICK_MICROS && !this.runningLong();
  }

  /** Its handlers return quickly, but the one it runs now has been at it for STUCK_MS or more. */
  get stuck() {
    return this.handlerMicros[0] < QUICK_MICROS && this.runningLong();
  }

  private runningLong(): boolean {
    const since = Atomics.load(this.handlerMicros, HANDLER_STARTED);
    return since !== 0 && handlerClockSince(since) >= STUCK_MS;
  }

  /** Ends the lane; piscina ends its thread. */
  end(): void {
    this.gone = true;
    this.stop.abort();
    this.port.close();
  }

  get usable() {
    return !this.gone && !this.broken;
  }

  /** Has a message going at the end of this turn. */
  get sending() {
    return this.outbox.length > 0;
  }

  send(_request: ForwardedRequest, record: ToThread): void {
    if (this.outbox.length === 0) this.schedule(this);
    this.outbox.push(record);
  }

  touch(request: ForwardedRequest): void {
    if (this.outbox.length === 0) this.schedule(this);
    this.outbox.push(request);
  }

  flush(): void {
    if (this.gone || this.outbox.length === 0) return void (this.outbox = []);
    let length = 0;
    for (const item of this.outbox) if (item instanceof ForwardedRequest && !item.done) length += item.pendingBytes;
    const bytes = new MessageBytes(length);
    const records: ToThread[] = [];
    for (const item of this.outbox) {
      if (!(item instanceof ForwardedRequest)) records.push(item);
      else if (!item.done) records.push(item.take(bytes));
    }
    this.outbox = [];
    this.port.postMessage(records, bytes.transferList);
  }
}

export class ThreadPool {
  private readonly threads: PoolThread[] = [];
  private readonly requests = new Map<number, ForwardedRequest>();
  private readonly waiting: ForwardedRequest[] = [];
  private readonly dirty = new Set<PoolThread>();
  private readonly draining = new Int32Array(new SharedArrayBuffer(4));
  private readonly data: ThreadData;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly piscina: Piscina;
  private lanes = 0;
  private nextId = 1;
  private flushScheduled = false;
  private sweep: NodeJS.Timeout | undefined;
  /** Looks at the waiting requests again while a stuck thread keeps them waiting (its handler's return is no event here). */
  private recheck: NodeJS.Timeout | undefined;
  private destroyed = false;
  private booted = false;
  /** Resolves once every thread has loaded the app; rejects with the first load failure. */
  readonly ready: Promise<LoadedApp>;
  private settleReady!: { resolve: (app: LoadedApp) => void; reject: (error: Error) => void };

  constructor(options: ThreadPoolOptions) {
    const { appModule, cwd, keepAliveMs, serverHeader } = options;
    this.data = { appModule, cwd, keepAliveMs, serverHeader, draining: this.draining };
    this.timeoutMs = options.timeoutSeconds * 1000;
    this.logger = options.logger;
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => {});
    // One lane a thread for its whole life; a lane aborted (replaced) takes its thread with it.
    this.piscina = new Piscina({
      filename: new URL('./thread-task.js', import.meta.url).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      // A lane's thread runs its own event loop; between tasks it has nothing to wait for.
      atomics: 'disabled',
    });
    let loaded = 0;
    for (let index = 0; index < options.threads; index += 1) {
      this.spawn((started) => {
        if ('failed' in started) return this.settleReady.reject(new Error(started.failed));
        loaded += 1;
        if (loaded === options.threads) {
          this.booted = true;
          this.settleReady.resolve(started.loaded);
        }
      });
    }
    if (this.timeoutMs > 0) {
      // One sweep for every request rather than a timer each; a deadline is met within a quarter of the timeout.
      this.sweep = setInterval(() => this.expire(), Math.max(50, Math.min(1000, this.timeoutMs / 4)));
      this.sweep.unref();
    }
  }

  /** Serves one request in a thread. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    const request = new ForwardedRequest(this.nextId++, req, res, performance.now());
    this.requests.set(request.id, request);
    attach(request);
    this.dispatch(request);
  }

  /** Responses whose head is not written yet close their connection, as in the async kind's drain. */
  drain(): void {
    Atomics.store(this.draining, 0, 1);
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    clearInterval(this.sweep);
    clearTimeout(this.recheck);
    for (const thread of this.threads) thread.end();
    await this.piscina.destroy();
  }

  /** The client went away before the response was done. */
  abandoned(request: ForwardedRequest): void {
    if (request.done) return;
    const thread = request.sink as PoolThread | undefined;
    if (thread) thread.send(request, [ABORT, request.id]);
    this.settle(request);
  }

  private spawn(onStarted?: (started: ThreadStarted) => void): PoolThread {
    this.lanes += 1;
    const thread = new PoolThread(this.piscina, this.data, this.lanes, (dirty) => this.schedule(dirty));
    this.threads.push(thread);
    let started = false;
    thread.port.on('message', (message: ToMain[] | ThreadStarted) => {
      if (Array.isArray(message)) return this.receive(message);
      started = true;
      if ('failed' in message) {
        thread.broken = true;
        if (this.booted) this.logger.error(`Pool thread ${thread.number} could not load the app and takes no requests: ${message.failed}`);
      }
      onStarted?.(message);
    });
    thread.finished.then(
      () => this.lost(thread, started, new Error('its lane ended')),
      (error: unknown) => this.lost(thread, started, error instanceof Error ? error : new Error(String(error))),
    );
    return thread;
  }

  /** A lane's thread is gone without being asked (an uncaught error in the app, an exit): another takes its place. */
  private lost(thread: PoolThread, started: boolean, error: Error): void {
    if (thread.gone || this.destroyed) return;
    if (!this.booted && !started) return this.settleReady.reject(error);
    this.logger.error(`A pool thread failed with an uncaught error and was replaced: ${describeError(error)}`);
    this.replace(thread, 'it failed');
  }

  private schedule(thread: PoolThread): void {
    this.dirty.add(thread);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Everything this turn of the event loop has for a thread goes in one message.
    setImmediate(() => {
      this.flushScheduled = false;
      for (const dirty of this.dirty) dirty.flush();
      this.dirty.clear();
    });
  }

  /**
   * The first thread with quick handlers that has room; else an idle thread;
   * else, under the limit, one that already has a message going this turn (one
   * message for several requests costs far less than one each), else the least busy.
   *
   * A quick thread whose handler is stuck takes nothing while another thread
   * could: whatever it is given waits until that handler returns, and a request
   * kept waiting here goes to the first thread that answers one. When every
   * thread is stuck, the least busy takes it, to run as soon as its handler
   * returns. (Threads of an app that blocks as a rule are all slow, never stuck.)
   */
  private pick(): PoolThread | undefined {
    for (const thread of this.threads) {
      if (thread.usable && thread.quick && thread.requests.size < QUICK_TASKS_PER_THREAD) return thread;
    }
    let best: PoolThread | undefined;
    let bestScore = Infinity;
    let onlyStuck = true;
    let leastBusyStuck: PoolThread | undefined;
    for (const thread of this.threads) {
      if (!thread.usable) continue;
      const load = thread.requests.size;
      if (thread.stuck) {
        if (load < TASKS_PER_THREAD && load < (leastBusyStuck?.requests.size ?? Infinity)) leastBusyStuck = thread;
        continue;
      }
      onlyStuck = false;
      if (load === 0) return thread;
      if (load >= TASKS_PER_THREAD) continue;
      const score = thread.sending ? load - TASKS_PER_THREAD : load;
      if (score < bestScore) {
        best = thread;
        bestScore = score;
      }
    }
    return onlyStuck ? leastBusyStuck : best;
  }

  private dispatch(request: ForwardedRequest): void {
    // Behind those already waiting, in order.
    if (this.waiting.length > 0) {
      this.waiting.push(request);
      return this.dispatchWaiting();
    }
    const thread = this.pick();
    if (!thread) {
      this.waiting.push(request);
      return this.recheckWhileStuck();
    }
    thread.requests.add(request);
    request.start(thread);
  }

  /**
   * A stuck thread's handler may return with no request settled (a response streamed on for minutes): the
   * waiting requests are looked at again every STUCK_MS while a stuck thread is what keeps them waiting.
   */
  private recheckWhileStuck(): void {
    if (this.recheck || this.destroyed) return;
    // Called once no thread was picked: a stuck one with room was passed over, and may be free any moment.
    if (!this.threads.some((thread) => thread.usable && thread.stuck && thread.requests.size < TASKS_PER_THREAD)) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.dispatchWaiting();
    }, STUCK_MS);
    this.recheck.unref();
  }

  private receive(records: ToMain[]): void {
    for (const record of records) {
      const request = this.requests.get(record[1]);
      if (!request) continue;
      switch (record[0]) {
        case DATA:
          if (request.respond(record[2], record[3], record[4], record[5], record[6])) this.settle(request);
          break;
        case FAIL: {
          const { req, res } = request;
          this.settle(request);
          this.logger.error(`Error handling request ${req.method} ${req.url}: ${record[2]}`);
          answerFailure(res, 500, 'Internal Server Error\n');
          break;
        }
        case CREDIT:
          request.credit(record[2]);
          break;
        case HINTS:
          try {
            request.hints(record[2]);
          } catch (error) {
            // One response's hints going wrong must not stop the records behind them.
            this.logger.warning(`Early hints for ${requestLine(request.req)} not sent: ${describeError(error)}`);
          }
          break;
      }
    }
  }

  /** The request needs its thread no more: the next waiting one takes its place. */
  private settle(request: ForwardedRequest): void {
    if (!this.requests.delete(request.id)) return;
    request.finish();
    const thread = request.sink as PoolThread | undefined;
    if (thread?.requests.delete(request)) this.dispatchWaiting();
  }

  private dispatchWaiting(): void {
    while (this.waiting.length > 0) {
      const request = this.waiting[0];
      if (request.done) {
        this.waiting.shift();
        continue;
      }
      const thread = this.pick();
      if (!thread) return this.recheckWhileStuck();
      this.waiting.shift();
      thread.requests.add(request);
      request.start(thread);
    }
  }

  private expire(): void {
    const now = performance.now();
    for (const request of this.requests.values()) {
      if (now - request.startedAt < this.timeoutMs) continue;
      const { req, res } = request;
      this.logger.error(`Request ${req.method} ${req.url} ran past the ${this.timeoutMs / 1000} s timeout in the thread pool; answered 503 (a thread still running it is replaced)`);
      answerFailure(res, 503, 'Service Unavailable: the request timed out\n');
      const thread = request.sink as PoolThread | undefined;
      // Out of its thread first, so the replacement does not count it among the requests to run again or refuse.
      thread?.requests.delete(request);
      if (thread) this.replace(thread, 'another request timed out');
      this.settle(request);
      const index = this.waiting.indexOf(request);
      if (index >= 0) this.waiting.splice(index, 1);
    }
  }

  /** Stops a thread and starts another in its place; what it held runs again or is answered 503. */
  private replace(thread: PoolThread, why: string): void {
    if (thread.gone || this.destroyed) return;
    this.threads.splice(this.threads.indexOf(thread), 1);
    thread.end();
    const replacement = this.spawn();
    this.logger.info(`Pool thread ${replacement.number} started in place of a stopped one`);
    for (const request of thread.requests) {
      thread.requests.delete(request);
      // Once only: a request that brings down every thread it runs on must not go round the pool for ever.
      if (request.retriable && !request.headSeen && !request.retried) {
        request.retried = true;
        request.sink = undefined;
        request.startedAt = performance.now();
        this.dispatch(request);
        continue;
      }
      const { req, res } = request;
      this.settle(request);
      this.logger.error(`Request ${req.method} ${req.url} waited on a thread replaced after ${why}; answered 503 (only bodiless idempotent requests are run again, once)`);
      answerFailure(res, 503, 'Service Unavailable: please retry\n');
    }
    this.dispatchWaiting();
  }
}

const requestKey = Symbol('corral.forwardedRequest');
const poolKey = Symbol('corral.threadPool');
type Carrier = { [requestKey]?: ForwardedRequest; [poolKey]?: ThreadPool };

// Shared listeners, not closures per request: they find their request on the stream.
function onBodyData(this: IncomingMessage, chunk: Buffer) {
  (this as IncomingMessage & Carrier)[requestKey]!.body(chunk);
}
function onBodyEnd(this: IncomingMessage) {
  (this as IncomingMessage & Carrier)[requestKey]!.bodyEnd();
}
function onResponseClose(this: ServerResponse) {
  const carrier = this as ServerResponse & Carrier;
  const request = carrier[requestKey]!;
  if (!request.done) carrier[poolKey]!.abandoned(request);
}

function attach(request: ForwardedRequest): void {
  const { req, res } = request;
  (res as ServerResponse & Carrier)[requestKey] = request;
  res.once('close', onResponseClose);
  if (!request.hasBody) return;
  (req as IncomingMessage & Carrier)[requestKey] = request;
  req.on('data', onBodyData);
  req.once('end', onBodyEnd);
}

/** Lets the shared close listener reach the pool. */
export function servedBy(pool: ThreadPool) {
  return (req: IncomingMessage, res: ServerResponse) => {
    (res as ServerResponse & Carrier)[poolKey] = pool;
    pool.serve(req, res);
  };
}
