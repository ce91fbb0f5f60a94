// Linux /proc helpers. Processes are always identified by (pid, start time)
// so a recycled pid is never mistaken for one of ours.
import { readdirSync, readFileSync } from 'node:fs';

/** Parsed /proc/PID/stat, or null if the process is gone. */
export function procStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); ppid is field 4, starttime field 22.
  return { pid, state: rest[0], ppid: Number(rest[1]), startTime: rest[19] };
}

/** A stable handle on a live process, or null if it is already gone. */
export function identify(pid) {
  const stat = procStat(pid);
  return stat && stat.state !== 'Z' ? { pid, startTime: stat.startTime } : null;
}

/** True if the process behind `ident` still exists and has not been reaped. */
export function isAlive(ident) {
  const stat = procStat(ident.pid);
  return stat !== null && stat.state !== 'Z' && stat.startTime === ident.startTime;
}

/** Direct children of `pid`, found through the ppid field of /proc/*\/stat. */
export function childrenOf(pid) {
  const children = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.ppid === pid && stat.state !== 'Z') children.push(stat.pid);
  }
  return children.sort((a, b) => a - b);
}

/** All descendants of `pid` (children, grandchildren, ...). */
export function descendantsOf(pid) {
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of childrenOf(queue.shift())) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Send `signal` to the process behind `ident` if it is still the same one. */
export function signal(ident, sig) {
  if (!isAlive(ident)) return false;
  try {
    process.kill(ident.pid, sig);
    return true;
  } catch {
    return false;
  }
}
