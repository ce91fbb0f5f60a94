// Server CPU per request: user + system time of a server's whole process tree
// (the arbiter or primary and every descendant), read from /proc before and
// after a measured window. Children that exit in the window are counted too:
// their times are added to their parent's cutime/cstime when it reaps them.
import { readFileSync } from 'node:fs';
import { descendantsOf } from './procs.mjs';

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

function cpuTicks(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is stat field 3; utime, stime, cutime, cstime are fields 14–17.
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by `pid` and all its descendants (live, and reaped ones through their parents). */
export function treeCpuSeconds(pid) {
  return [pid, ...descendantsOf(pid)].reduce((sum, each) => sum + cpuTicks(each), 0) / TICKS_PER_SECOND;
}

/** Wraps one load run: adds `cpuPerRequestUs` (server CPU µs per request served) to what it returns. */
export async function withServerCpu(pid, run) {
  const before = treeCpuSeconds(pid);
  const result = await run();
  const used = treeCpuSeconds(pid) - before;
  return { ...result, cpuSeconds: used, cpuPerRequestUs: result.total > 0 ? (used * 1e6) / result.total : NaN };
}
