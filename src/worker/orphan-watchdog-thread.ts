// Runs in a thread of its own (see orphan-watchdog.ts), so it turns even while
// the worker's main event loop is blocked. Reading process.ppid asks the kernel
// each time (getppid), from any thread.
import { workerData } from 'node:worker_threads';
import { endProcessGroup } from './process-group.js';

const { arbiterPid, pollMs, graceMs } = workerData as { arbiterPid: number; pollMs: number; graceMs: number };

// The worker leads its process group: this ends it and every process the app started in it.
const killWorker = () => endProcessGroup() || process.kill(process.pid, 'SIGKILL');

const poll = setInterval(() => {
  if (process.ppid === arbiterPid) return;
  // Reparented: the arbiter is gone. A worker whose loop turns leaves by itself (its IPC pipe closed) within the grace.
  clearInterval(poll);
  setTimeout(killWorker, graceMs);
}, pollMs);
