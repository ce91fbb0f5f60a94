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
