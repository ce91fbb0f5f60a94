// Shared accept: every worker is woken for a new connection, but only one on a
// core can take it, and libuv takes one connection a wake-up, wake-up after
// wake-up. When a client opens its pool in a burst, the worker that is running
// takes it all while its siblings wait for a core, and keep-alive keeps the
// connections where they landed (-w 4 under wrk's 50 connections on two cores:
// 49/1/0/0 in one run, one worker serving everything in another). So a worker
// whose open connections reach a new high (above this second's, and by more
// than a few above the last one's) stands back for a moment after the accept,
// longer the more it holds: it sleeps, and a sibling gets the core and takes
// the next. A steady stream of short connections stays within its band and
// does not stand back. The sleeps take at most a small share of the worker's
// time, so a flood of new connections cannot put it to sleep. (libuv's old
// single-accept mode, a 1 ns sleep after each accept, is gone since libuv
// 1.45, Node 20.3.)
import { monotonicMs } from '../monotonic-ms.js';
import { waitBudget } from '../sockets/wait-budget.js';
import { sleepThread } from './sleep-thread.js';

/** How long a worker stands back for each connection it holds, after an accept that is a new high. */
const STAND_BACK_MS_PER_CONNECTION = 0.1;
/** The longest it stands back after one accept. */
const MAX_STAND_BACK_MS = 2;
/** Highs are counted over this window and the one before. */
const WINDOW_MS = 1000;
/** How far above the last second's high a new high must be to stand back for. */
const HIGH_MARGIN = 2;
/** The share of a worker's time standing back may take, and the most at once (ms). */
const STAND_BACK_SHARE = 0.05;
const STAND_BACK_BURST_MS = 50;

/** What is needed of an accepted socket: to hear when it closes. */
type ClosingSocket = { once(event: 'close', listener: () => void): unknown };

/** A listener for the server's `connection` event that stands back after an accept that is a new high. */
export function spreadAccepts({ now = monotonicMs, sleep = sleepThread }: { now?: () => number; sleep?: (ms: number) => void } = {}): (socket: ClosingSocket) => void {
  const budget = waitBudget(STAND_BACK_SHARE, STAND_BACK_BURST_MS, now);
  let open = 0;
  let high = 0;
  let highBefore = 0;
  let windowStart = now();
  const closed = () => void (open -= 1);
  return (socket) => {
    open += 1;
    socket.once('close', closed);
    const time = now();
    const windows = Math.floor((time - windowStart) / WINDOW_MS);
    if (windows > 0) {
      // The high of the second before, or, after a quiet spell, where the count stood before this accept.
      highBefore = windows === 1 ? high : open - 1;
      high = open - 1;
      windowStart += windows * WINDOW_MS;
    }
    // Above this second's high, and clearly above the last one's: a steady load's highs wander by a few.
    if (open >= 2 && open > high && open > highBefore + HIGH_MARGIN && budget.allows()) {
      const ms = Math.min(MAX_STAND_BACK_MS, STAND_BACK_MS_PER_CONNECTION * open);
      budget.spend(ms);
      sleep(ms);
    }
    if (open > high) high = open;
  };
}
