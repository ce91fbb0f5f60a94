// --capture-output: what the app writes to stdout and stderr goes to the error log file.
import { type LogFileOptions, openLogFile } from '../log/log-file.js';

/** Redirects this process's stdout/stderr writes; returns the reopen function for USR1. Lines the file cannot take are counted and told as the logs' are. */
export function captureOutput(path: string, drops: Pick<LogFileOptions, 'onDropped' | 'tellDrops'> = {}): () => void {
  const file = openLogFile(path, { dash: 'stderr', sync: true, role: 'captured output', ...drops });
  for (const stream of [process.stdout, process.stderr]) {
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      file.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
  }
  // A failure is the error log's own, which the logger reports already.
  return () => void file.reopen();
}
