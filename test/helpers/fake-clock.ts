// Runs a machine on XState's simulated clock, so tests cover minutes of timeouts in microseconds.
import { SimulatedClock } from 'xstate';

export function simulatedClock() {
  const clock = new SimulatedClock();
  return {
    clock,
    /** Moves time forward by `ms`. */
    advance: (ms: number) => clock.increment(ms),
  };
}

/** ms until the earliest timer scheduled on `clock`, or undefined if none (SimulatedClock keeps its timers private). */
export function nextTimer(clock: SimulatedClock): number | undefined {
  const timers = (clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
  let earliest: number | undefined;
  for (const { start, timeout } of timers.values()) earliest = Math.min(earliest ?? Infinity, start + timeout - clock.now());
  return earliest;
}
