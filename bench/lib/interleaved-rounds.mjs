// Interleaved rounds: each running target once per round, a warm-up then a
// measured run, so slow drifts of the machine hit every target alike.
import { isAlive } from './procs.mjs';

/**
 * @param {{ entry: object, server: object, ident: object|null }[]} running  results go to entry.rounds
 * @param {object} options
 * @param {(port: number, load: object, server: object) => Promise<object>} options.measure  one load run
 * @param {object} options.load          what `measure` is given; the warm-up uses `warmupSec` instead of its duration
 */
export async function runInterleavedRounds(running, { rounds, load, warmupSec, measure, scenario, problems, log }) {
  for (let round = 1; round <= rounds; round += 1) {
    for (const { entry, server, ident } of running) {
      if (entry.error) continue;
      if (ident && !isAlive(ident)) {
        entry.error = `process ${server.pid} died during the run`;
        problems.push(`${scenario}/${entry.key}: ${entry.error}`);
        continue;
      }
      log(`${scenario} round ${round}/${rounds}: ${entry.label}`);
      await measure(server.port, { ...load, durationSec: warmupSec }, server);
      const measured = await measure(server.port, load, server);
      entry.rounds.push(measured);
      const cpu = Number.isFinite(measured.cpuPerRequestUs) ? `, ${measured.cpuPerRequestUs.toFixed(1)} µs CPU/req` : '';
      log(`  ${measured.rps.toFixed(0)} req/s${cpu}, p50 ${measured.p50} ms, p99 ${measured.p99} ms, errors ${measured.errors}`);
    }
  }
}
