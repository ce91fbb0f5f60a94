// --capture-output: what the app writes to stdout and stderr goes to the error
// log file. With --log-format json each line the app writes becomes a JSON
// record of its own ({ time, pid, level, stream, msg }: stdout at info, stderr
// at error), so the error log stays one JSON object per line for its readers.
import { StringDecoder } from 'node:string_decoder';
import { type LogFileOptions, openLogFile } from '../log/log-file.js';
import { type LogFormat, type LogLevel, jsonLogLine } from '../log/logger.js';

/** A line longer than this is cut into records of this size, so an app that never ends a line cannot grow memory. */
const MAX_LINE_CHARS = 64 * 1024;

interface CaptureOptions extends Pick<LogFileOptions, 'onDropped' | 'tellDrops'> {
  format?: LogFormat;
}

/** Turns a stream's writes into one JSON record per line; what is left of a line is written at exit. */
function jsonRecords(stream: 'stdout' | 'stderr', level: LogLevel, write: (text: string) => void) {
  let partial = '';
  const record = (line: string) => write(jsonLogLine(level, line.endsWith('\r') ? line.slice(0, -1) : line, { stream }));
  process.on('exit', () => {
    if (partial !== '') record(partial);
    partial = '';
  });
  return (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) record(line);
    while (partial.length >= MAX_LINE_CHARS) {
      record(partial.slice(0, MAX_LINE_CHARS));
      partial = partial.slice(MAX_LINE_CHARS);
    }
  };
}

/** Redirects this process's stdout/stderr writes; returns the reopen function for USR1. Lines the file cannot take are counted and told as the logs' are. */
export function captureOutput(path: string, { format = 'text', ...drops }: CaptureOptions = {}): () => void {
  const file = openLogFile(path, { dash: 'stderr', sync: true, role: 'captured output', ...drops });
  const raw = (text: string) => file.write(text);
  const outputs = [
    { stream: process.stdout, write: format === 'json' ? jsonRecords('stdout', 'info', raw) : raw },
    { stream: process.stderr, write: format === 'json' ? jsonRecords('stderr', 'error', raw) : raw },
  ];
  for (const { stream, write } of outputs) {
    // Bytes: a character split across two writes is put back together.
    const decoder = new StringDecoder('utf8');
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      write(typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
  }
  // A failure is the error log's own, which the logger reports already.
  return () => void file.reopen();
}
