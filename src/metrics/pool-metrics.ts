// The pool's totals, as the arbiter sees them: live workers' last heartbeats
// plus what every exited worker had served, so counters never go down when a
// worker is replaced; and worker restarts by cause.
import type { ExitCause, RecycleCause, WorkerExit, WorkerStats } from '../../machines/worker-handle.js';
import { type RequestDurations, addDurations, emptyDurations } from './duration-histogram.js';

/** What the arbiter knows of one live worker: its handle's context. */
export interface WorkerReading {
  pid: number | undefined;
  stats: WorkerStats;
}

export interface PoolSnapshot {
  requestsTotal: number;
  durations: RequestDurations;
  inFlight: number;
  restarts: Record<ExitCause, number>;
  /** Workers replaced for reaching a limit (--max-requests, --max-memory), by limit. */
  recycles: Record<RecycleCause, number>;
  /** Requests cut by --request-timeout. */
  requestTimeouts: number;
  workers: { pid: number; lagSeconds: number; rssBytes: number }[];
  workerCount: number;
  /** Connections the arbiter closed unserved, by why (dispatching kinds only). */
  refusedConnections?: { silent: number; shed: number; stopping: number };
}

/** Every cause, so each restart series exists (at 0) before its first restart. */
const noRestarts = (): Record<ExitCause, number> => ({ exited: 0, stopped: 0, timeout: 0, protocol: 0, bootFailed: 0 });

export class PoolMetrics {
  private exitedServed = 0;
  private readonly exitedDurations = emptyDurations();
  private readonly restarts = noRestarts();
  private readonly recycles: Record<RecycleCause, number> = { maxRequests: 0, maxMemory: 0 };
  private exitedTimeouts = 0;

  workerRecycling(cause: RecycleCause): void {
    this.recycles[cause] += 1;
  }

  /** A worker is gone; `replaced` when the arbiter starts another in its place. */
  workerExited(exit: WorkerExit, replaced: boolean): void {
    this.exitedServed += exit.stats.served;
    this.exitedTimeouts += exit.stats.timedOut ?? 0;
    if (exit.stats.durations) addDurations(this.exitedDurations, exit.stats.durations);
    if (replaced) this.restarts[exit.cause] += 1;
  }

  snapshot(live: readonly WorkerReading[]): PoolSnapshot {
    const durations = addDurations(emptyDurations(), this.exitedDurations);
    let requestsTotal = this.exitedServed;
    let inFlight = 0;
    let requestTimeouts = this.exitedTimeouts;
    const workers: PoolSnapshot['workers'] = [];
    for (const { pid, stats } of live) {
      requestsTotal += stats.served;
      inFlight += stats.inFlight;
      requestTimeouts += stats.timedOut ?? 0;
      if (stats.durations) addDurations(durations, stats.durations);
      // rss is 0 until the first heartbeat: such a worker has no figures yet.
      // Lag to the microsecond: it is measured with timers, finer digits are noise.
      if (pid !== undefined && stats.rss > 0) workers.push({ pid, lagSeconds: Math.round(stats.lagMs * 1000) / 1e6, rssBytes: stats.rss });
    }
    return { requestsTotal, durations, inFlight, restarts: { ...this.restarts }, recycles: { ...this.recycles }, requestTimeouts, workers, workerCount: live.length };
  }
}
