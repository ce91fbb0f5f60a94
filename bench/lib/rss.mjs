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

/** corral's orphan sentinel (a shell, not a worker): counted in the total, not among the workers. */
const isSentinel = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('corral: sentinel');
  } catch {
    return false;
  }
};

/** RSS of a supervisor, each of its direct children that is a worker, and the total of all. */
export function treeRss(pid) {
  const primary = rssMB(pid);
  const children = childrenOf(pid).map((child) => ({ pid: child, mb: rssMB(child) })).filter((w) => w.mb !== null);
  const workers = children.filter((child) => !isSentinel(child.pid));
  const total = (primary ?? 0) + children.reduce((sum, w) => sum + w.mb, 0);
  return { pid, primary, workers, total };
}
