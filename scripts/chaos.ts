// `npm run chaos`: every fault scenario under load, at length; prints a table and
// writes bench/results/chaos.md. Exit status 1 when a scenario misses its expectation.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { findHaproxy, fleetRollout } from '../test/chaos/fleet-rollout.js';
import { type ChaosReport, fdExhaustion, fullDiskAccessLog, hangingApp, hostileClients, ipcGarbage, killNine, leakingApp, logReopenFailure, reloadStorm } from '../test/chaos/scenarios.js';

const seconds = Number(process.env.CHAOS_SECONDS ?? 30);
if (!Number.isInteger(seconds) || seconds < 4) {
  console.error(`CHAOS_SECONDS must be a whole number ≥ 4, got "${process.env.CHAOS_SECONDS}"`);
  process.exit(2);
}

const runs: [string, () => Promise<ChaosReport>][] = [
  ['kill -9', () => killNine(seconds)],
  ['hanging app (sync)', () => hangingApp(seconds, { kind: 'sync' })],
  ['hanging app (async)', () => hangingApp(seconds, { kind: 'async' })],
  ['leaking app', () => leakingApp(seconds)],
  ['HUP storm + USR2', () => reloadStorm(seconds)],
  ['hostile clients', () => hostileClients(seconds, { idle: 10_000 })],
  ['IPC garbage', () => ipcGarbage(seconds)],
  ['log reopen failure', () => logReopenFailure(seconds)],
  ['full disk', () => fullDiskAccessLog(seconds)],
  ['fd exhaustion', () => fdExhaustion(seconds)],
];
// Needs HAProxy (Debian's package): said and left out when it cannot be had.
const haproxy = findHaproxy();
if (haproxy) runs.push(['fleet rollout', () => fleetRollout(haproxy, seconds, { minRequests: 20_000 })]);
else console.log('fleet rollout: skipped, haproxy is not installed and could not be installed (apt-get install haproxy)');

// CHAOS_ONLY=kill,hostile … runs the scenarios whose names contain one of the words.
const only = (process.env.CHAOS_ONLY ?? '').split(',').filter(Boolean);
const reports: ChaosReport[] = [];
for (const [name, run] of runs) {
  if (only.length && !only.some((word) => name.includes(word))) continue;
  process.stderr.write(`chaos: ${name} (${seconds} s)…\n`);
  const result = await run();
  reports.push(result);
  process.stderr.write(`chaos:   ${result.ok}/${result.sent} ok, ${result.failed} failed, ${result.met ? 'as expected' : 'MISSED'}\n`);
}

const cell = (text: string) => text.replace(/\|/g, '\\|');
const lines = [
  '# corral chaos suite',
  '',
  `- Date: ${new Date().toISOString()}; Node ${process.version}; ${os.cpus().length} CPUs; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}`,
  `- ${seconds} s per scenario; load: keep-alive clients in this process, each sending its next request as soon as the last is answered`,
  '',
  '| scenario | sent | succeeded | failed (why) | expected | met | notes |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...reports.map((r) =>
    `| ${cell(r.scenario)} | ${r.sent} | ${r.ok} | ${r.failed}${r.failed ? ` (${cell(Object.entries(r.reasons).map(([why, n]) => `${n}× ${why}`).join(', '))})` : ''} | ${cell(r.expectation)} | ${r.met ? 'yes' : '**no**'} | ${cell(r.notes.join('; '))} |`),
  '',
];
const text = lines.join('\n');
console.log(text);
const results = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(results, { recursive: true });
// A partial run must not replace the full figures.
const file = only.length ? `chaos-${only.join('-')}.md` : 'chaos.md';
writeFileSync(`${results}${file}`, text);
process.stderr.write(`chaos: results written to bench/results/${file}\n`);
process.exitCode = reports.every((r) => r.met) ? 0 : 1;
