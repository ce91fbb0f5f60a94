// Cold start: wall time from spawn() to the first 200 on GET /.
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './stats.mjs';
import { startTarget } from './targets.mjs';

/** Spawn and stop `target` `runs` times; polling starts on the listening line, every 10 ms. */
export async function measureColdStart(target, runs) {
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const server = await startTarget(target, { pollIntervalMs: 10 });
    times.push(server.spawnToReadyMs);
    await server.stop();
    await sleep(200); // let the previous tree be fully reaped before the next spawn
  }
  return { runs: times, median: median(times) };
}
