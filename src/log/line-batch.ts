// Collects log lines and hands them to a LogFile in batches: one write per
// some kilobytes instead of one per line, yet no line waits longer than
// `maxDelayMs` on a quiet server.
import type { LogFile } from './log-file.js';

export interface LineBatch {
  /** `line` ends with its newline. */
  write(line: string): void;
  /** Writes what is collected now. */
  flush(): void;
}

export function createLineBatch(file: LogFile, { maxBytes, maxDelayMs }: { maxBytes: number; maxDelayMs: number }): LineBatch {
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  const writePending = () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    file.write(text);
  };
  const onTimer = () => {
    timer = undefined;
    writePending();
  };
  return {
    write(line) {
      pending += line;
      // String length, not bytes: close enough for a batch size.
      if (pending.length >= maxBytes) writePending();
      // Unref'd: a pending batch must not keep a finished worker alive; exit flushes it.
      else timer ??= setTimeout(onTimer, maxDelayMs).unref();
    },
    flush() {
      clearTimeout(timer);
      timer = undefined;
      writePending();
    },
  };
}
