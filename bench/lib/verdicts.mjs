// The performance targets, each a ratio of two figures of the same run, with
// its verdict: met, missed, or not measured (a peer or scenario was skipped).

/** Blocking scenario: 2 workers × 8 threads, each request 10 ms → at most 1,600 req/s. */
const BLOCKING_IDEAL_RPS = (2 * 8) / 0.010;

const sum = (values) => values.reduce((total, value) => total + value, 0);
const mean = (values) => (values.length ? sum(values) / values.length : NaN);

export function verdicts(results) {
  const figure = (scenario, target, field) => results.scenarios.find((s) => s.key === scenario)?.targets.find((t) => t.key === target)?.median?.[field] ?? NaN;
  const rps = (scenario, target) => figure(scenario, target, 'rps');
  const cpu = (scenario, target) => figure(scenario, target, 'cpuPerRequestUs');
  const workersMb = (key) => results.rss[key]?.workers?.map((w) => w.mb) ?? [];
  const idleConnections = results.scenarios.find((s) => s.key === 'idle') ? 2000 : NaN;
  const perConnectionKb = (key) => ((sum(workersMb(`${key} (idle)`)) - sum(workersMb(key))) * 1024) / idleConnections;
  const cold = (key) => results.coldStart[key]?.median ?? NaN;

  const rows = [];
  /** `value / reference` must stay `at most` or `at least` `goal`. */
  const target = (name, value, reference, { atMost, atLeast, unit = '' }) => {
    const ratio = value / reference;
    const goal = atMost ?? atLeast;
    const measured = Number.isFinite(ratio);
    rows.push({
      name,
      value,
      reference,
      unit,
      ratio,
      goal: `${atMost !== undefined ? '≤' : '≥'} ${goal}×`,
      met: measured ? (atMost !== undefined ? ratio <= atMost : ratio >= atLeast) : null,
    });
  };
  target('async, hello keep-alive: CPU/request vs a single process', cpu('hello', 'corral'), cpu('hello', 'single'), { atMost: 1.03, unit: 'µs' });
  target("async, hello keep-alive: CPU/request vs node:cluster's", cpu('hello', 'corral'), cpu('hello', 'cluster-rr'), { atMost: 1.0, unit: 'µs' });
  target('async, hello keep-alive: req/s vs node:cluster round robin', rps('hello', 'corral'), rps('hello', 'cluster-rr'), { atLeast: 1.0, unit: 'req/s' });
  target('async, hello keep-alive: req/s vs PM2', rps('hello', 'corral'), rps('hello', 'pm2'), { atLeast: 1.0, unit: 'req/s' });
  target('sync, connection per request: req/s vs gunicorn sync', rps('close', 'corral-sync'), rps('close', 'gunicorn-sync'), { atLeast: 1.2, unit: 'req/s' });
  target("sync, connection per request: CPU/request vs gunicorn sync's", cpu('close', 'corral-sync'), cpu('close', 'gunicorn-sync'), { atMost: 1.0, unit: 'µs' });
  target('thread, 10 ms blocking, 64 conns: req/s vs ideal (1,600)', rps('blocking', 'corral-thread'), BLOCKING_IDEAL_RPS, { atLeast: 0.95, unit: 'req/s' });
  target('thread, 10 ms blocking: req/s vs gunicorn gthread', rps('blocking', 'corral-thread'), rps('blocking', 'gunicorn-gthread'), { atLeast: 1.0, unit: 'req/s' });
  target("thread, 10 ms blocking: CPU/request vs gunicorn gthread's", cpu('blocking', 'corral-thread'), cpu('blocking', 'gunicorn-gthread'), { atMost: 1.0, unit: 'µs' });
  target("thread, hello keep-alive: CPU/request vs the async kind's", cpu('hello', 'corral-thread'), cpu('hello', 'corral'), { atMost: 3.0, unit: 'µs' });
  target("cold start (spawn to first 200): vs node:cluster's", cold('corral'), cold('cluster-rr'), { atMost: 1.3, unit: 'ms' });
  const idleWorker = mean(workersMb('corral'));
  const clusterWorker = mean(workersMb('cluster-rr'));
  target("idle RSS per async worker vs node:cluster's worker + 6 MB", idleWorker, clusterWorker + 6, { atMost: 1.0, unit: 'MB' });
  target("RSS per idle keep-alive connection vs node:cluster's", perConnectionKb('corral'), perConnectionKb('cluster-rr'), { atMost: 1.0, unit: 'KB' });
  const balance = results.balance;
  rows.push(
    balance
      ? { name: 'balance, -w 4, 50 keep-alive conns: max/min requests served per worker', value: balance.max, reference: balance.min, unit: 'requests', ratio: balance.max / balance.min, goal: '≤ 1.3×', met: balance.max / balance.min <= 1.3 }
      : { name: 'balance, -w 4, 50 keep-alive conns: max/min requests served per worker', value: NaN, reference: NaN, unit: '', ratio: NaN, goal: '≤ 1.3×', met: null },
  );
  return rows;
}
