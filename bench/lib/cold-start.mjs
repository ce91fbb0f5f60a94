// Cold start: wall time from spawn() to the first 200 on GET /.
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './stats.mjs';
import { startTarget } from './targets.mjs';

/**
 * How often the probe tries again from the listening line on: fine enough that a server that prints the line
 * at bind time, before its workers listen (corral), is not charged a coarse poll's wait that one printing it
 * later (node:cluster) never pays.
 */
export const COLD_START_POLL_MS = 2;

/** Spawn and stop each of `targets` in turn, `runs` rounds (interleaved, so the machine's drifts hit all alike). */
export async function measureColdStarts(targets, runs) {
  const times = targets.map(() => []);
  for (let round = 0; round < runs; round += 1) {
    for (const [index, target] of targets.entries()) {
      const server = await startTarget(target, { pollIntervalMs: COLD_START_POLL_MS });
      times[index].push(server.spawnToReadyMs);
      await server.stop();
      await sleep(200); // let the previous tree be fully reaped before the next spawn
    }
  }
  return times.map((each) => ({ runs: each, median: median(each) }));
}
