// The error log. Text lines in gunicorn's shape —
// `[2026-11-25 06:07:31 +0000] [pid] [LEVEL] message` — or JSON lines.
import { LOG_LEVELS, type LogLevel } from './levels.js';
import { type LogFile, openLogFile } from './log-file.js';
import { writeToStandardError } from './standard-error.js';

export type { LogLevel };
export { LOG_LEVELS };

export interface Logger {
  level: LogLevel;
  log(level: LogLevel, message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  critical(message: string): void;
  /** Reopen the file after logrotate moved it (USR1); a failure is logged, never thrown. */
  reopen(): void;
  /**
   * An error about the log files themselves (a failed reopen): into the error
   * log, and to stderr when the error log is a file, since that file may be
   * what fails or no longer be where the operator looks.
   */
  logFileError(message: string): void;
  /** Best effort, synchronous: for a process about to die. Lines still waiting on a stalled pipe are dropped. */
  flush(): void;
  /** Resolves once every line is out, or after `deadlineMs` (a stalled reader): for a process leaving in good order. */
  drain(deadlineMs: number): Promise<void>;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-11-25 06:07:31 +0000` in local time, as gunicorn's `%Y-%m-%d %H:%M:%S %z`. */
export function formatTimestamp(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

/** One JSON error-log line; `fields` go between the level and the message (e.g. `stream` for captured output). */
export const jsonLogLine = (level: LogLevel, message: string, fields?: Record<string, string>) =>
  `${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, level, ...fields, msg: message })}\n`;

const formats = {
  text: (level: LogLevel, message: string) => `[${formatTimestamp(new Date())}] [${process.pid}] [${level.toUpperCase()}] ${message}\n`,
  json: (level: LogLevel, message: string) => jsonLogLine(level, message),
};

export type LogFormat = keyof typeof formats;

export interface LoggerOptions {
  level: LogLevel;
  format?: LogFormat;
  /** '-' (stderr, the default) or a file path. */
  path?: string;
  /** Called for every line logged, e.g. to count log lines in metrics. */
  onLine?: (level: LogLevel) => void;
  /** Called with the number of lines that could not be written (a full disk), e.g. for metrics. */
  onDropped?: (lines: number) => void;
}

export function createLogger({ level, format = 'text', path = '-', onLine, onDropped }: LoggerOptions): Logger {
  const render = formats[format];
  // The error log's own trouble cannot go into the error log: a file's goes to stderr; stderr's, nowhere but the count.
  const toStderr = path === '-' ? undefined : (message: string) => writeToStandardError(render('error', message));
  const file: LogFile = openLogFile(path, { dash: 'stderr', sync: true, role: 'error log', onDropped, tellDrops: toStderr });
  const logger: Logger = {
    level,
    log(lineLevel, message) {
      if (LOG_LEVELS.indexOf(lineLevel) < LOG_LEVELS.indexOf(logger.level)) return;
      file.write(render(lineLevel, message));
      onLine?.(lineLevel);
    },
    debug: (message) => logger.log('debug', message),
    info: (message) => logger.log('info', message),
    warning: (message) => logger.log('warning', message),
    error: (message) => logger.log('error', message),
    critical: (message) => logger.log('critical', message),
    reopen() {
      const failure = file.reopen();
      if (failure !== undefined) logger.logFileError(failure);
    },
    logFileError(message) {
      logger.error(message);
      if (LOG_LEVELS.indexOf('error') >= LOG_LEVELS.indexOf(logger.level)) toStderr?.(message);
    },
    flush: () => file.flush(),
    drain: (deadlineMs) => file.drain(deadlineMs),
  };
  return logger;
}
