/** Median of a list of numbers (mean of the two middle values for even sizes). */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The medians of a target's rounds (req/s, p50, p99) and their errors summed; sets them on `entry`. */
export function summariseRounds(entry) {
  if (entry.rounds.length === 0) return;
  entry.median = {
    rps: median(entry.rounds.map((run) => run.rps)),
    p50: median(entry.rounds.map((run) => run.p50)),
    p99: median(entry.rounds.map((run) => run.p99)),
    cpuPerRequestUs: median(entry.rounds.map((run) => run.cpuPerRequestUs ?? NaN)),
  };
  entry.errors = entry.rounds.reduce((sum, run) => sum + run.errors, 0);
}
