// Resident memory of a process tree, read from /proc/PID/status (VmRSS).
import { readFileSync } from 'node:fs';
import { childrenOf } from './procs.mjs';

/** VmRSS of `pid` in MB (2^20 bytes), or null if the process is gone. */
export function rssMB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** RSS of a supervisor and each of its direct children (the workers). */
export function treeRss(pid) {
  const primary = rssMB(pid);
  const workers = childrenOf(pid)
    .map((child) => ({ pid: child, mb: rssMB(child) }))
    .filter((w) => w.mb !== null);
  const total = (primary ?? 0) + workers.reduce((sum, w) => sum + w.mb, 0);
  return { pid, primary, workers, total };
}
