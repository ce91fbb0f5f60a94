// The error log's last lines, followed live, for the inspector. Every process
// (arbiter and workers) writes its own lines straight to the file, so the file
// is the one place they all meet: it is read from its end and polled for
// growth while a page watches. A file cut short or replaced (logrotate, then
// USR1) is read again from its start.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const POLL_MS = 500;
/** Read at most this much from the end at once: enough for the lines asked for, whatever their length. */
const TAIL_BYTES = 256 * 1024;

export interface LogLine {
  /** The process that wrote it, when the line names one. */
  pid: number | undefined;
  level: string;
  text: string;
}

export interface ErrorLogTail {
  /** Why there is nothing to follow (the log goes to stderr), else undefined. */
  unavailable: string | undefined;
  /** The last lines now, then each batch of new ones; returns a stop. */
  follow(listener: (lines: LogLine[], reset: boolean) => void): () => void;
}

/** `[2026-11-25 06:07:31 +0000] [pid] [LEVEL] message`, or a JSON line with pid, level and msg. */
export function parseLogLine(line: string): LogLine {
  const text = /^\[[^\]]*\] \[(\d+)\] \[([A-Z]+)\] /.exec(line);
  if (text) return { pid: Number(text[1]), level: text[2].toLowerCase(), text: line };
  if (line.startsWith('{')) {
    try {
      const json = JSON.parse(line) as { pid?: unknown; level?: unknown };
      return { pid: typeof json.pid === 'number' ? json.pid : undefined, level: typeof json.level === 'string' ? json.level : '', text: line };
    } catch {
      // Not JSON after all: shown as it is.
    }
  }
  return { pid: undefined, level: '', text: line };
}

export function createErrorLogTail(path: string | null, kept: number): ErrorLogTail {
  if (kept <= 0) return { unavailable: 'the error log tail is off (--inspector-log-lines 0)', follow: () => () => {} };
  if (!path || path === '-') {
    return { unavailable: 'the error log goes to stderr: give --error-logfile a file to follow it here', follow: () => () => {} };
  }
  const listeners = new Set<(lines: LogLine[], reset: boolean) => void>();
  let last: LogLine[] = [];
  let offset = 0;
  let inode: number | undefined;
  let partial = '';
  let timer: NodeJS.Timeout | undefined;

  const readFrom = (start: number, end: number): string => {
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(end - start);
      let read = 0;
      while (read < buffer.length) {
        const got = readSync(fd, buffer, read, buffer.length - read, start + read);
        if (got === 0) break;
        read += got;
      }
      return buffer.subarray(0, read).toString('utf8');
    } finally {
      closeSync(fd);
    }
  };

  const poll = (): { lines: LogLine[]; reset: boolean } => {
    let size: number;
    let ino: number;
    try {
      ({ size, ino } = statSync(path));
    } catch {
      return { lines: [], reset: false }; // not there (yet): nothing to show
    }
    let reset = false;
    if (ino !== inode || size < offset) {
      // First look, or the file was replaced or cut: its end is read afresh.
      reset = true;
      inode = ino;
      offset = Math.max(0, size - TAIL_BYTES);
      partial = '';
      if (offset > 0) {
        // Starting mid-file: the first, partial line is dropped.
        const head = readFrom(offset, Math.min(size, offset + 4096));
        const newline = head.indexOf('\n');
        offset = newline < 0 ? size : offset + newline + 1;
      }
    }
    if (size <= offset) return { lines: [], reset };
    const chunk = partial + readFrom(offset, size);
    offset = size;
    const pieces = chunk.split('\n');
    partial = pieces.pop() ?? '';
    return { lines: pieces.filter((piece) => piece.length > 0).slice(-kept).map(parseLogLine), reset };
  };

  const tick = () => {
    const { lines, reset } = poll();
    if (!reset && lines.length === 0) return;
    last = reset ? lines : [...last, ...lines].slice(-kept);
    for (const listener of listeners) listener(lines, reset);
  };

  return {
    unavailable: undefined,
    follow(listener) {
      if (listeners.size === 0) {
        // Nobody watched: start from the file's end as it is now.
        inode = undefined;
        const { lines } = poll();
        last = lines;
        timer = setInterval(tick, POLL_MS);
        timer.unref();
      }
      listeners.add(listener);
      listener(last, true);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) clearInterval(timer);
      };
    },
  };
}
