// A bounded share of a worker's time for waits that may come to nothing: a
// token bucket in milliseconds, refilled with time up to a burst. A sync worker
// spends it on connections that stay silent through their grace (see
// src/kinds/sync.ts), so a flood of connections that say nothing costs each
// worker at most this share of its time, not all of it.
import { monotonicMs } from '../monotonic-ms.js';

export interface WaitBudget {
  /** Whether a wait may be spent now. */
  allows(): boolean;
  /** A wait of `ms` came to nothing. */
  spend(ms: number): void;
}

/** `share` of each second (0.05: 50 ms a second), at most `burstMs` at once. */
export function waitBudget(share: number, burstMs: number, now: () => number = monotonicMs): WaitBudget {
  let left = burstMs;
  let at = now();
  const refill = () => {
    const time = now();
    left = Math.min(burstMs, left + (time - at) * share);
    at = time;
  };
  return {
    allows() {
      refill();
      return left > 0;
    },
    spend(ms) {
      refill();
      left -= ms;
    },
  };
}
