// Renders the bench suite (bench/run.mjs) as markdown: per scenario a table of
// req/s, latency, errors and the ratio to node:cluster, with its chart; then
// cold start and idle memory.
const fmt = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const row = (cells) => `| ${cells.join(' | ')} |`;
const brief = (text) => String(text).split('\n')[0].replace(/\|/g, '\\|');
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

export function renderSuiteReport(r) {
  const out = ['# corral benchmark', ''];
  out.push(`- Date: ${r.date}`);
  out.push(`- Node: ${r.node} (${r.platform}), CPUs: ${r.cpus} (${r.cpuModel})`);
  out.push(`- Load average at start (1/5/15 min): ${r.loadAvg.map((x) => x.toFixed(2)).join(' / ')}`);
  out.push(`- Load generator: ${r.wrk}, one thread pinned to core ${r.wrkCore} (\`taskset\`), ${r.seconds} s per run after a ${r.warmupSec} s warm-up, ${r.rounds} interleaved round(s), median reported`);
  out.push('- Server CPU per request: user+system time of the target\'s whole process tree (from /proc, reaped children included) over the measured run, divided by the requests served; it does not depend on how much CPU the load generator takes');
  out.push(`- Reproduce: \`npm run bench\` (BENCH_SECONDS=${r.seconds} BENCH_ROUNDS=${r.rounds})`, '');

  for (const scenario of r.scenarios) {
    out.push(`## ${scenario.title}`, '', `${scenario.about} ${scenario.connections} connections.`, '');
    const reference = scenario.targets.find((t) => t.key === 'cluster-rr')?.median?.rps;
    const referenceCpu = scenario.targets.find((t) => t.key === 'cluster-rr')?.median?.cpuPerRequestUs;
    out.push(table(
      ['target', 'req/s', 'vs node:cluster', 'CPU µs/req', 'CPU vs node:cluster', 'p50 ms', 'p99 ms', 'errors', 'notes'],
      scenario.targets.map((t) => {
        if (t.skipped) return [t.label, 'skipped', '', '', '', '', '', '', brief(t.skipped)];
        if (t.error || !t.median) return [t.label, 'failed', '', '', '', '', '', '', brief(t.error ?? 'not run')];
        const notes = [`per round: ${t.rounds.map((x) => `${fmt(x.rps)} (${fmt(x.cpuPerRequestUs, 1)} µs)`).join(', ')}`, ...(t.notes ?? [])].join('; ');
        const cpu = t.median.cpuPerRequestUs;
        return [t.label, fmt(t.median.rps), ratio(t.median.rps, reference), fmt(cpu, 1), ratio(cpu, referenceCpu), fmt(t.median.p50, 1), fmt(t.median.p99, 1), String(t.errors), brief(notes)];
      }),
    ));
    out.push('', `![${scenario.title}](${r.chartPrefix ?? ''}${scenario.key}.svg) ![${scenario.title}, CPU per request](${r.chartPrefix ?? ''}${scenario.key}-cpu.svg)`, '');
  }

  if (Object.keys(r.coldStart).length > 0) {
    out.push(`## Cold start (spawn to first 200, median of ${r.coldStartRuns} interleaved rounds)`, '');
    out.push(table(['target', 'median ms', 'runs ms'], Object.values(r.coldStart).map((c) => (c.error ? [c.label, 'failed', brief(c.error)] : [c.label, fmt(c.median), c.runs.map((x) => fmt(x)).join(', ')]))));
    out.push('');
  }
  if (Object.keys(r.rss).length > 0) {
    out.push('## Memory (RSS, MB)', '', 'Each target of the hello-world scenario after 2 s idle, and of the idle-connections scenario with its 2,000 connections open, after its load.', '');
    out.push(table(['target', 'primary / arbiter', 'workers', 'total'], Object.values(r.rss).map((m) => (m.error ? [m.label, 'n/a', 'n/a', brief(m.error)] : [m.label, fmt(m.primary, 1), m.workers.length ? m.workers.map((w) => fmt(w.mb, 1)).join(' + ') : '-', fmt(m.total, 1)]))));
    out.push('');
  }
  if (r.verdicts?.length) {
    out.push('## Targets', '', 'Each a ratio of two figures of this run.', '');
    const verdict = (met) => (met === null ? 'not measured' : met ? 'met' : 'missed');
    out.push(table(['target', 'corral', 'against', 'ratio', 'goal', 'verdict'], r.verdicts.map((v) => [v.name, `${fmt(v.value, 1)} ${v.unit}`, `${fmt(v.reference, 1)} ${v.unit}`, Number.isFinite(v.ratio) ? `${v.ratio.toFixed(2)}×` : 'n/a', v.goal, verdict(v.met)])));
    out.push('');
  }
  if (r.problems.length) out.push('## Problems', '', ...r.problems.map((p) => `- ${brief(p)}`), '');
  return out.join('\n');
}
