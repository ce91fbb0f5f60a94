// The Prometheus text exposition format (version 0.0.4) of the pool's metrics.
import { DURATION_BOUNDS } from './duration-histogram.js';
import type { PoolSnapshot } from './pool-metrics.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const formatNumber = (value: number) => (value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value));

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

type Labels = Record<string, string>;

export const sample = (name: string, value: number, labels?: Labels) => {
  const pairs = labels ? Object.entries(labels).map(([key, label]) => `${key}="${escapeLabel(label)}"`) : [];
  return `${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatNumber(value)}`;
};

export const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: string[]) =>
  [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples].join('\n');

/** Bucket counts are cumulative in the exposition: each `le` counts everything at or under it. */
export function histogramSamples(name: string, { counts, sumSeconds }: PoolSnapshot['durations']) {
  const samples: string[] = [];
  let cumulative = 0;
  DURATION_BOUNDS.forEach((bound, bucket) => {
    cumulative += counts[bucket];
    samples.push(sample(`${name}_bucket`, cumulative, { le: String(bound) }));
  });
  cumulative += counts[DURATION_BOUNDS.length];
  samples.push(sample(`${name}_bucket`, cumulative, { le: '+Inf' }));
  samples.push(sample(`${name}_sum`, sumSeconds), sample(`${name}_count`, cumulative));
  return samples;
}

export function renderPrometheus(pool: PoolSnapshot): string {
  const families = [
    family('corral_requests_total', 'counter', 'Requests served by all workers, including workers since replaced.', [
      sample('corral_requests_total', pool.requestsTotal),
    ]),
    family(
      'corral_request_duration_seconds',
      'histogram',
      'Time from the start of a request to the end of its response.',
      histogramSamples('corral_request_duration_seconds', pool.durations),
    ),
    family('corral_requests_in_flight', 'gauge', 'Requests being served now.', [sample('corral_requests_in_flight', pool.inFlight)]),
    family(
      'corral_worker_restarts_total',
      'counter',
      'Workers replaced, by why the previous one ended.',
      Object.entries(pool.restarts).map(([cause, count]) => sample('corral_worker_restarts_total', count, { cause })),
    ),
    family(
      'corral_worker_recycles_total',
      'counter',
      'Workers replaced (the replacement ready first) for reaching a limit, by limit: max_requests, max_memory.',
      [
        sample('corral_worker_recycles_total', pool.recycles.maxRequests, { limit: 'max_requests' }),
        sample('corral_worker_recycles_total', pool.recycles.maxMemory, { limit: 'max_memory' }),
      ],
    ),
    family('corral_request_timeouts_total', 'counter', 'Requests cut by --request-timeout.', [sample('corral_request_timeouts_total', pool.requestTimeouts)]),
    family(
      'corral_event_loop_lag_seconds',
      'gauge',
      "How late each worker's last heartbeat ran: time its event loop was blocked.",
      pool.workers.map((worker) => sample('corral_event_loop_lag_seconds', worker.lagSeconds, { pid: String(worker.pid) })),
    ),
    family(
      'corral_worker_rss_bytes',
      'gauge',
      'Resident memory of each worker.',
      pool.workers.map((worker) => sample('corral_worker_rss_bytes', worker.rssBytes, { pid: String(worker.pid) })),
    ),
    family('corral_workers', 'gauge', 'Worker processes, booting or serving.', [sample('corral_workers', pool.workerCount)]),
  ];
  // Only where the arbiter accepts connections itself (a dispatching kind such as sync).
  const refused = pool.refusedConnections;
  if (refused) {
    families.push(
      family('corral_connections_refused_total', 'counter', 'Connections the arbiter closed unserved, by why: silent (nothing within --header-timeout), backlog (--backlog held already), stopping (503 at a stop).', [
        sample('corral_connections_refused_total', refused.silent, { reason: 'silent' }),
        sample('corral_connections_refused_total', refused.shed, { reason: 'backlog' }),
        sample('corral_connections_refused_total', refused.stopping, { reason: 'stopping' }),
      ]),
    );
  }
  return `${families.join('\n')}\n`;
}
