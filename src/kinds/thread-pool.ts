// The piscina pool of the thread kind: N threads, each with its own copy of the
// app. A request past its deadline is aborted, which makes piscina stop the
// thread running it and start a fresh one.
import { Piscina } from 'piscina';
import type { ProbeResult, RequestTask, ThreadResponse } from './thread-messages.js';
import type { ThreadData } from './thread-task.js';

export class RequestTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`the request ran past the ${seconds} s timeout`);
    this.name = 'RequestTimeoutError';
  }
}

/** The request was queued on a thread that was replaced because another request on it ran past the timeout. */
export class ThreadReplacedError extends Error {
  constructor() {
    super('its thread was replaced while the request waited on it');
    this.name = 'ThreadReplacedError';
  }
}

/**
 * Requests handed to one thread before it has answered the earlier ones. With
 * one, a thread sits idle for every round trip through the main thread's event
 * loop (hello world: ~7,500 req/s a process); with a few queued it never waits
 * (~10,000+). Threads with none are always picked first, so a blocking app
 * still spreads over the whole pool; more would only lengthen the queue behind
 * a request that hangs.
 */
const TASKS_PER_THREAD = 4;

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/**
 * piscina's own balancer gives a thread running an abortable task (every
 * request here has a timeout) nothing more, which would undo the queueing
 * above. This one picks an idle thread first, else the least busy under the
 * limit; a thread that is stopped for a timeout fails its queued requests
 * with ThreadReplacedError.
 */
const leastBusyThread: Balancer = (_task, threads) => {
  let best = null;
  let bestUsage = TASKS_PER_THREAD;
  for (const thread of threads) {
    if (thread.terminating || thread.destroyed) continue;
    // piscina reports a thread with one abortable task as fully used (Infinity).
    const usage = thread.isRunningAbortableTask ? 1 : thread.currentUsage;
    if (usage === 0) return thread;
    if (usage < bestUsage) {
      best = thread;
      bestUsage = usage;
    }
  }
  return best;
};

export interface ThreadPool {
  /** Loads the app in one thread and says its shape; rejects with the load error. */
  probe(): Promise<ProbeResult>;
  /** Runs one request; rejects with RequestTimeoutError past the timeout, or with what the app threw. */
  run(task: RequestTask): Promise<ThreadResponse>;
  onError(listener: (error: Error) => void): void;
  /** A thread started in place of one that was stopped (a timeout) and takes requests (its app loads as it starts). */
  onReplacement(listener: (threadId: number) => void): void;
  destroy(): Promise<void>;
}

export interface ThreadPoolOptions extends ThreadData {
  threads: number;
  /** Seconds a request may take, queueing included; 0 for no limit. */
  timeoutSeconds: number;
}

export function createThreadPool({ appModule, cwd, threads, timeoutSeconds }: ThreadPoolOptions): ThreadPool {
  const pool = new Piscina({
    filename: new URL('./thread-task.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // The threads hold the loaded app: never let them go idle and exit.
    idleTimeout: Infinity,
    // Keeps each thread's event loop turning between requests, so an app's own timers and sockets (pools, caches) stay alive.
    atomics: 'async',
    concurrentTasksPerWorker: TASKS_PER_THREAD,
    loadBalancer: leastBusyThread,
    workerData: { appModule, cwd } satisfies ThreadData,
    recordTiming: false,
  });
  const timeoutMs = timeoutSeconds * 1000;

  // piscina's words when it ends a thread under the tasks queued on it.
  const isThreadTermination = (error: unknown) => error instanceof Error && error.message === 'Terminating worker thread';

  const run = async (task: RequestTask): Promise<ThreadResponse> => {
    const transferList = task.body ? [task.body] : undefined;
    const abort = timeoutMs > 0 ? new AbortController() : undefined;
    const timer = abort && setTimeout(() => abort.abort(), timeoutMs);
    try {
      return await pool.run(task, { transferList, signal: abort?.signal });
    } catch (error) {
      if (abort?.signal.aborted) throw new RequestTimeoutError(timeoutSeconds);
      throw isThreadTermination(error) ? new ThreadReplacedError() : error;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    probe: () => pool.run({ type: 'probe' }),
    run,
    onError: (listener) => void pool.on('error', listener),
    onReplacement(listener) {
      // The first `threads` creations are the pool's start; any later one replaces a thread.
      let created = 0;
      pool.on('workerCreate', (thread: { id: number }) => {
        created += 1;
        if (created > threads) listener(thread.id);
      });
    },
    destroy: () => pool.destroy(),
  };
}
