// Renders the kinds bench (bench/kinds.mjs) as markdown: one throughput table
// per scenario, the ratios against their targets, and worker memory.

const fmt = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const row = (cells) => `| ${cells.join(' | ')} |`;
const brief = (text) => String(text).split('\n')[0].replace(/\|/g, '\\|');
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

const rpsOf = (section, key) => section.targets.find((t) => t.key === key)?.median?.rps;
const labelOf = (section, key) => section.targets.find((t) => t.key === key)?.label ?? key;

function ratioLine(section, { of, to, target }) {
  const a = rpsOf(section, of);
  const b = rpsOf(section, to);
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return `- ${labelOf(section, of)} / ${labelOf(section, to)}: n/a (not measured)`;
  const ratio = a / b;
  const verdict = target === undefined ? '' : ` (target ≥ ${target}×: ${ratio >= target ? 'met' : 'missed'})`;
  return `- ${labelOf(section, of)} / ${labelOf(section, to)}: **${ratio.toFixed(2)}×**${verdict}`;
}

const workersMB = (tree) => (tree?.workers?.length ? tree.workers.map((w) => fmt(w.mb, 1)).join(', ') : 'n/a');

export function renderKindsReport(r) {
  const out = ['# corral worker kinds benchmark', ''];
  out.push(`- Date: ${r.date}`);
  out.push(`- Node: ${r.node} (${r.platform}), CPUs: ${r.cpus} (${r.cpuModel})`);
  out.push(`- Load average at start (1/5/15 min): ${r.loadAvg.map((x) => x.toFixed(2)).join(' / ')}`);
  out.push(`- corral kinds available: ${r.kinds.join(', ')}`);
  out.push(
    `- Load generator: autocannon ${r.autocannon} (programmatic, same machine), pipelining 1, ` +
      `${r.durationSec} s per run after a ${r.warmupSec} s warm-up, ${r.rounds} interleaved round(s), median reported`,
  );
  out.push('');

  for (const section of r.scenarios) {
    out.push(`## ${section.title}`, '');
    out.push(`${section.connections} connections.${section.ceiling ? ` Ceiling: ${section.ceiling}.` : ''}`, '');
    out.push(
      table(
        ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'notes'],
        section.targets.map((t) => {
          if (t.skipped) return [t.label, 'skipped', '', '', '', brief(t.skipped)];
          if (t.error || !t.median) return [t.label, 'failed', '', '', '', brief(t.error ?? 'not run')];
          return [t.label, fmt(t.median.rps), fmt(t.median.p50, 1), fmt(t.median.p99, 1), String(t.errors), `req/s per round: ${t.rounds.map((x) => fmt(x.rps)).join(', ')}`];
        }),
      ),
    );
    out.push('');
    for (const ratio of section.ratios) out.push(ratioLine(section, ratio));
    out.push('');
  }

  out.push('## Worker memory (RSS, MB)', '');
  out.push(`Per worker process, after ${r.idleSec} s idle and again after the load. A thread-kind worker holds its threads, each with its own V8 isolate and copy of the app.`, '');
  const rows = r.scenarios.flatMap((section) =>
    section.targets
      .filter((t) => t.idleRss && t.key !== 'gthread')
      .map((t) => [t.label, workersMB(t.idleRss), workersMB(t.loadedRss), fmt(t.idleRss.primary, 1)]),
  );
  out.push(table(['target', 'workers idle', 'workers after load', 'arbiter / primary'], rows));
  out.push('');
  if (r.problems.length) out.push('## Problems', '', ...r.problems.map((p) => `- ${brief(p)}`), '');
  return out.join('\n');
}
