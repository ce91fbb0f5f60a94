// Connections a worker closes because it cannot afford them (at
// --worker-connections, or out of file descriptors) are counted by reason and
// logged at most once a second, so a flood costs a line a second, not a line
// per connection.
import type { Logger } from '../log/logger.js';
import { monotonicMs } from '../monotonic-ms.js';

const INTERVAL_MS = 1000;

/** Returns `shed(reason)`: counts one closed connection; the count is logged within a second. */
export function sheddingLog(logger: Logger, intervalMs = INTERVAL_MS): (reason: string) => void {
  const counts = new Map<string, number>();
  let lastLoggedAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    lastLoggedAt = monotonicMs();
    let total = 0;
    for (const count of counts.values()) total += count;
    const reasons = [...counts].map(([reason, count]) => `${count} ${reason}`).join(', ');
    counts.clear();
    logger.warning(`Worker (pid: ${process.pid}) closed ${total} new connection${total === 1 ? '' : 's'}: ${reasons}`);
  };
  // A timer may fire a little early by this clock (libuv measures from its cached loop time): it waits out the rest.
  const flushWhenDue = () => {
    const wait = lastLoggedAt + intervalMs - monotonicMs();
    if (wait <= 0) return flush();
    // Never holds the worker up on its way out: a last count is worth less than a prompt exit.
    timer = setTimeout(flushWhenDue, Math.max(1, Math.ceil(wait))).unref();
  };
  return (reason) => {
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    if (!timer) flushWhenDue();
  };
}
