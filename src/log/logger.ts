// Error-log lines in gunicorn's shape: `[2026-11-25 06:07:31 +0000] [pid] [LEVEL] message`.
// Each line is one write, so lines from the arbiter and workers sharing stderr never interleave.
import type { LogLevel } from '../../machines/worker-handle.js';

export type { LogLevel };

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical'];

export interface Logger {
  level: LogLevel;
  log(level: LogLevel, message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  critical(message: string): void;
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

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const logger: Logger = {
    level,
    log(lineLevel, message) {
      if (LOG_LEVELS.indexOf(lineLevel) < LOG_LEVELS.indexOf(logger.level)) return;
      write(`[${formatTimestamp(new Date())}] [${process.pid}] [${lineLevel.toUpperCase()}] ${message}\n`);
    },
    debug: (message) => logger.log('debug', message),
    info: (message) => logger.log('info', message),
    warning: (message) => logger.log('warning', message),
    error: (message) => logger.log('error', message),
    critical: (message) => logger.log('critical', message),
  };
  return logger;
}
