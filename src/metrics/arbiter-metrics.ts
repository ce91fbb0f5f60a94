// The arbiter's share of metrics: the Prometheus endpoint over the pool's
// totals, the `corral.workers` StatsD gauge, and restart counts.
import type { RecycleCause, WorkerExit } from '../../machines/worker-handle.js';
import type { Logger } from '../log/logger.js';
import { type Routes, metricsRoute, startMetricsServer } from './metrics-server.js';
import { PoolMetrics, type PoolSnapshot, type WorkerReading } from './pool-metrics.js';
import { renderPrometheus } from './prometheus.js';
import type { StatsdClient } from './statsd.js';
import { STATSD_METRICS } from './statsd-line.js';

/** The workers gauge is also re-sent this often, so a StatsD agent that restarted catches up. */
const WORKERS_GAUGE_INTERVAL_MS = 5000;

export interface ArbiterMetrics {
  /** A worker is gone; `replaced` when the arbiter starts another in its place. */
  workerExited(exit: WorkerExit, replaced: boolean): void;
  /** A worker is to be replaced because it reached a limit. */
  workerRecycling(cause: RecycleCause): void;
  /** Called on every arbiter transition; sends the workers gauge when the count changed. */
  poolChanged(): void;
  close(): Promise<void>;
}

export interface ArbiterMetricsOptions {
  metricsBind: string | null;
  statsd: StatsdClient | undefined;
  logger: Logger;
  /** The live worker handles' contexts. */
  liveWorkers: () => readonly WorkerReading[];
  /** Connections the arbiter closed unserved (dispatching kinds), undefined where it accepts none. */
  refusedConnections?: () => PoolSnapshot['refusedConnections'];
  /** More families for the exposition (the dirty pool's). */
  extraMetrics?: () => string;
  /** More routes on the metrics listener (the health checks, when they have no listener of their own). */
  extraRoutes?: Routes;
}

/** Binds the metrics endpoint (a bind failure rejects); undefined when no metric is asked for. */
export async function startArbiterMetrics({ metricsBind, statsd, logger, liveWorkers, refusedConnections, extraRoutes, extraMetrics }: ArbiterMetricsOptions): Promise<ArbiterMetrics | undefined> {
  if (!metricsBind && !statsd) return undefined;
  const pool = new PoolMetrics();
  const routes = { ...metricsRoute(() => renderPrometheus({ ...pool.snapshot(liveWorkers()), refusedConnections: refusedConnections?.() }) + (extraMetrics?.() ?? '')), ...extraRoutes };
  const server = metricsBind ? await startMetricsServer(metricsBind, routes, logger) : undefined;
  if (server) logger.info(`Serving metrics at: ${server.url}/metrics`);
  if (server && extraRoutes) logger.info(`Answering health checks at: ${server.url} (${Object.keys(extraRoutes).join(', ')})`);

  // No gauge for the empty pool at startup: the first one goes out when workers exist.
  let lastCount = 0;
  const sendWorkersGauge = () => {
    lastCount = liveWorkers().length;
    statsd?.gauge(STATSD_METRICS.workers, lastCount);
  };
  const gaugeTimer = statsd ? setInterval(sendWorkersGauge, WORKERS_GAUGE_INTERVAL_MS).unref() : undefined;

  return {
    workerExited: (exit, replaced) => pool.workerExited(exit, replaced),
    workerRecycling: (cause) => pool.workerRecycling(cause),
    poolChanged() {
      if (statsd && liveWorkers().length !== lastCount) sendWorkersGauge();
    },
    async close() {
      clearInterval(gaugeTimer);
      await server?.close();
    },
  };
}
