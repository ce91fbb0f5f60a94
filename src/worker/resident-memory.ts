// The worker's resident memory for its heartbeat. process.memoryUsage.rss()
// opens /proc/self/stat, so it throws EMFILE when the worker is out of file
// descriptors, exactly when a heartbeat matters most; then the last reading
// stands in (or the peak from getrusage, which needs no descriptor).

/** Returns a reader that never throws. */
export function residentMemory(read: () => number = () => process.memoryUsage.rss()): () => number {
  let last: number | undefined;
  return () => {
    try {
      last = read();
      return last;
    } catch {
      return last ?? process.resourceUsage().maxRSS * 1024;
    }
  };
}
