// Tells of dropped log lines without flooding: the first drop at once, later
// ones added up and told when the interval since the last report has passed.
// A full disk drops lines on every write; one line every few seconds says so.

/** At most one report per this long. */
export const DROP_REPORT_INTERVAL_MS = 5000;

export interface DropReport {
  /** `lines` were dropped, because of `cause`. */
  dropped(lines: number, cause: string): void;
  /** Tells what is still untold now (a process on its way out). */
  flush(): void;
}

/** `tell` gets one sentence per report, e.g. to the error log. */
export function createDropReport(what: string, tell: (message: string) => void, intervalMs = DROP_REPORT_INTERVAL_MS): DropReport {
  let untold = 0;
  let total = 0;
  let lastCause = '';
  let lastToldAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;

  const report = () => {
    clearTimeout(timer);
    timer = undefined;
    if (untold === 0) return;
    const lines = untold;
    untold = 0;
    lastToldAt = Date.now();
    tell(`Dropped ${lines} ${what} line(s) (${total} since this process started): ${lastCause}. They are lost; free space or fix the destination.`);
  };

  return {
    dropped(lines, cause) {
      untold += lines;
      total += lines;
      lastCause = cause;
      if (timer) return;
      const wait = lastToldAt + intervalMs - Date.now();
      if (wait <= 0) return report();
      // Unref'd: an untold count must not keep a finished process alive; flush() tells it on the way out.
      timer = setTimeout(report, wait).unref();
    },
    flush: report,
  };
}
