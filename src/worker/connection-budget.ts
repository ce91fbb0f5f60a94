// How many connections a worker can afford: --worker-connections 0 (the
// default) means as many as its file-descriptor limit leaves room for. Node
// has no getrlimit, so the soft limit is read from /proc/self/limits (Linux).
import { readFileSync } from 'node:fs';

/** The ceiling when the limit is unknown or very high: an idle connection costs a few KB, a worker holding more than this should be two workers. */
export const MAX_WORKER_CONNECTIONS = 10_000;
/** Descriptors kept for the process itself and its app: stdio, the IPC pipe, listeners, epoll, log files, an app's own files and clients. */
const reserveFor = (limit: number) => Math.max(64, Math.floor(limit / 8));

/** The soft RLIMIT_NOFILE, or undefined when it cannot be read (not Linux, or unlimited). */
export function softFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  try {
    const soft = /^Max open files\s+(\S+)/m.exec(read())?.[1];
    const limit = Number(soft);
    return Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
  } catch {
    return undefined;
  }
}

export interface ConnectionBudget {
  connections: number;
  /** Set when the setting asked for more than the limit affords. */
  capped?: string;
}

/**
 * The connections a worker holds at most: what the descriptor limit affords, or
 * the setting if it is lower. Past the limit, libuv closes the connections it
 * cannot accept without a word (and nothing can count them), so a setting above
 * it would only trade counted, logged shedding for silent.
 */
export function connectionBudget(setting: number, limit: number | undefined): ConnectionBudget {
  const affordable = limit === undefined ? Infinity : Math.max(1, limit - reserveFor(limit));
  if (setting <= 0) return { connections: Math.min(MAX_WORKER_CONNECTIONS, affordable) };
  if (setting <= affordable) return { connections: setting };
  return {
    connections: affordable,
    capped: `--worker-connections ${setting} is more than the file-descriptor limit (ulimit -n ${limit}) affords; holding at most ${affordable} connections (raise the limit to hold more)`,
  };
}
