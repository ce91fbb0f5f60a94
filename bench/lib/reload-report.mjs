// Renders the reload bench's results as markdown (printed, and written to bench/results/reload.md).
import { FAILURE_KINDS } from './reload-load.mjs';
import { median } from './stats.mjs';

const row = (cells) => `| ${cells.join(' | ')} |`;
const brief = (text) => String(text).split('\n')[0].replace(/\|/g, '\\|');
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

const KIND_LABELS = {
  resets: 'resets',
  closed: 'closed',
  refused: 'refused',
  timeouts: 'timeouts',
  non2xx: 'non-2xx',
  otherErrors: 'other',
};

function reloadsCell(s) {
  if (s.recycled !== undefined) return `${s.recycled} workers recycled`;
  if (!s.schedule) return '-';
  return `${s.reloadsDone}/${s.schedule.planned}`;
}

function notesCell(s) {
  const notes = [...(s.notes ?? [])];
  if (s.schedule?.reloads.length > 0 && s.recycled === undefined) {
    const took = s.schedule.reloads.map((r) => r.endMs - r.startMs);
    notes.push(took.length === 1
      ? `took ${Math.round(took[0])} ms`
      : `reload took ${Math.round(median(took))} ms median, ${Math.round(Math.max(...took))} ms max`);
  }
  if (s.counts.closesHonoured > 0) notes.push(`${s.counts.closesHonoured} \`Connection: close\` honoured`);
  const codes = Object.entries(s.counts.errorCodes ?? {}).map(([code, n]) => `${code} ×${n}`);
  if (codes.length > 0) notes.push(`socket errors: ${codes.join(', ')}`);
  if (s.schedule?.error) notes.push(`reloads stopped: ${s.schedule.error}`);
  if (Number.isFinite(s.loadAvg)) notes.push(`load avg ${s.loadAvg.toFixed(1)} at start`);
  return notes.map(brief).join('; ');
}

export function renderReloadReport(r) {
  const out = [];
  out.push('# corral reload-under-load benchmark', '');
  out.push(`- Date: ${r.date}`);
  out.push(`- Node: ${r.node} (${r.platform}), CPUs: ${r.cpus} (${r.cpuModel})`);
  out.push(`- Load average at start of the run (1/5/15 min): ${r.loadAvg.map((x) => x.toFixed(2)).join(' / ')}`);
  out.push(`- App: examples/test.js, GET http://127.0.0.1:PORT/, ${r.workers} workers per server`);
  out.push(
    `- Load: autocannon ${r.load.version} (programmatic, same machine), ${r.load.connections} keep-alive connections, ` +
    `pipelining 1, ${r.load.durationSec} s per scenario, one scenario after the other`,
  );
  out.push('');

  const head = ['scenario', 'requests', 'ok', 'failed', ...FAILURE_KINDS.map((k) => KIND_LABELS[k]), 'reloads done', 'notes'];
  out.push(table(head, r.scenarios.map((s) => {
    if (s.skipped) return [s.label, '', '', '', ...FAILURE_KINDS.map(() => ''), '', `skipped (${brief(s.skipped)})`];
    if (s.error) return [s.label, '', '', '', ...FAILURE_KINDS.map(() => ''), '', `failed: ${brief(s.error)}`];
    return [
      s.label,
      String(s.counts.sent),
      String(s.counts.ok),
      `**${s.failed}**`,
      ...FAILURE_KINDS.map((k) => String(s.counts[k])),
      reloadsCell(s),
      notesCell(s),
    ];
  })));
  out.push('');
  out.push('- requests = requests sent; at most one per connection is still in flight when the run stops, neither ok nor failed.');
  out.push('- resets: ECONNRESET/EPIPE with a request outstanding; closed: the server closed the connection with a request ' +
    'outstanding and no `Connection: close`; refused: ECONNREFUSED; timeouts: no response within 10 s; ' +
    'non-2xx: any other status; other: any other socket error.');
  out.push('- The client honours `Connection: close` like any HTTP/1.1 client: the next request goes on a new connection.');
  out.push('- reloads done = reloads that completed while the load ran / reloads wanted. Each starts at its evenly spaced ' +
    'time or when the previous one has completed, whichever is later, so slow reloads mean fewer of them.');
  out.push('');

  const corral = r.scenarios.filter((s) => s.corral && !s.skipped);
  const misses = corral.filter((s) => s.error || s.failed > 0 || s.counts.resets > 0);
  if (corral.length === 0) out.push('Target (0 failed requests, 0 resets in every corral scenario): no corral scenario run.');
  else out.push(misses.length === 0
    ? `Target (0 failed requests, 0 resets in every corral scenario): **met** (${corral.length} scenario(s) run).`
    : `Target (0 failed requests, 0 resets in every corral scenario): **not met** in ${misses.map((s) => s.label).join('; ')}.`);
  out.push('');

  if (r.problems.length > 0) {
    out.push('## Problems', '');
    for (const p of new Set(r.problems)) out.push(`- ${p.replace(/\n\s*/g, ' / ')}`);
    out.push('');
  }
  return out.join('\n');
}
