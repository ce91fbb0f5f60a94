// Renders bench results as markdown (printed to the console and written to bench/results/latest.md).
import { median } from './stats.mjs';

const fmt = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const row = (cells) => `| ${cells.join(' | ')} |`;
// Error texts go in table cells: first line only, no pipe characters.
const brief = (text) => String(text).split('\n')[0].replace(/\|/g, '\\|');
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

export function renderReport(r) {
  const out = [];
  out.push(`# corral benchmark`, '');
  out.push(`- Date: ${r.date}`);
  out.push(`- Node: ${r.node} (${r.platform}), CPUs: ${r.cpus} (${r.cpuModel})`);
  out.push(`- Load average at start (1/5/15 min): ${r.loadAvg.map((x) => x.toFixed(2)).join(' / ')}`);
  out.push(`- App: examples/test.js, GET http://127.0.0.1:PORT/`);
  out.push(
    `- Load generator: autocannon ${r.load.version} (programmatic, same machine), ` +
    `${r.load.connections} connections, pipelining ${r.load.pipelining}, ` +
    `${r.load.durationSec} s per run after a ${r.load.warmupSec} s warm-up, ` +
    `${r.load.rounds} interleaved round(s), median reported`,
  );
  out.push('');

  out.push('## Throughput and latency', '');
  out.push(table(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'notes'],
    r.targets.map(({ key, label }) => {
      const t = r.throughput[key];
      if (!t || t.error) return [label, 'failed', '', '', '', brief(t?.error ?? 'not run')];
      return [
        label,
        fmt(t.median.rps),
        fmt(t.median.p50, 1),
        fmt(t.median.p99, 1),
        String(t.errors),
        `req/s per round: ${t.rounds.map((x) => fmt(x.rps)).join(', ')}`,
      ];
    }),
  ));
  out.push('');
  out.push('errors = socket errors (including timeouts) + non-2xx responses, summed over all measured rounds. ' +
    'autocannon records latency in whole milliseconds.');
  out.push('');
  const rps = (key) => (r.throughput[key]?.error ? NaN : r.throughput[key]?.median.rps);
  const ran = (key) => r.targets.some((t) => t.key === key);
  if (ran('cluster')) out.push(`- corral / node:cluster req/s: **${ratio(rps('corral'), rps('cluster'))}**`);
  if (ran('single')) out.push(`- corral / single process req/s: **${ratio(rps('corral'), rps('single'))}**`);
  if (ran('corral-accesslog')) {
    out.push(`- corral with access log / corral req/s: **${ratio(rps('corral-accesslog'), rps('corral'))}** (target ≥ 0.90×)`);
    // Each round's two runs follow each other, so their ratio shrugs off slow drifts of a busy machine.
    const paired = (r.throughput['corral-accesslog']?.rounds ?? []).flatMap((run, i) => {
      const base = r.throughput.corral?.rounds?.[i];
      return base ? [run.rps / base.rps] : [];
    });
    if (paired.length > 0) {
      out.push(`- the same, round by round: ${paired.map((x) => `${x.toFixed(2)}×`).join(', ')}; median **${median(paired).toFixed(2)}×**`);
    }
    if (r.accessLog) out.push(`- access log written: ${r.accessLog.lines} lines, ${fmt(r.accessLog.bytes / 2 ** 20, 1)} MB (one line per request, warm-ups included)`);
  }
  out.push('');

  // A BENCH_ONLY scenario measures no cold start.
  if (Object.keys(r.coldStart).length > 0) {
    out.push(`## Cold start (spawn to first 200, median of ${r.coldStartRuns})`, '');
    out.push(table(
      ['target', 'median ms', 'runs ms'],
      Object.values(r.coldStart).map((c) => (c.error
        ? [c.label, 'failed', brief(c.error)]
        : [c.label, fmt(c.median), c.runs.map((x) => fmt(x)).join(', ')])),
    ));
    out.push('');
  }

  out.push(`## Idle RSS (MB, after ${r.idleSec} s idle)`, '');
  out.push(table(
    ['target', 'primary', 'workers', 'total'],
    Object.values(r.rss).map((m) => (m.error
      ? [m.label, 'failed', brief(m.error), '']
      : [m.label, fmt(m.primary, 1), m.workers.map((w) => fmt(w.mb, 1)).join(' + ') || '-', fmt(m.total, 1)])),
  ));
  out.push('');

  if (r.problems.length > 0) {
    out.push('## Problems', '');
    for (const p of new Set(r.problems)) out.push(`- ${p.replace(/\n\s*/g, ' / ')}`);
    out.push('');
  }
  return out.join('\n');
}
