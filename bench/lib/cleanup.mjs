// Last line of defence: whatever happens (exception, Ctrl-C, early exit),
// every process the bench started, and every worker those processes forked,
// is SIGKILLed by pid before the bench exits.
import { descendantsOf, identify, signal } from './procs.mjs';

const roots = new Map(); // pid -> ident of processes we spawned
const known = new Map(); // pid -> ident of their descendants seen so far

/** Register a process we spawned. */
export function track(pid) {
  const ident = identify(pid);
  if (ident) roots.set(pid, ident);
  return ident;
}

/** Remember the current descendants of `pid`, so they can be killed even after being orphaned. */
export function rememberDescendants(pid) {
  const found = [];
  for (const child of descendantsOf(pid)) {
    const ident = identify(child);
    if (ident) {
      known.set(child, ident);
      found.push(ident);
    }
  }
  return found;
}

/** Forget a process (and its remembered descendants) once it has been stopped cleanly. */
export function untrack(pid, descendants = []) {
  roots.delete(pid);
  for (const ident of descendants) known.delete(ident.pid);
}

/** Synchronously SIGKILL everything still tracked. Safe to call from an 'exit' handler. */
export function killAllSync() {
  for (const [pid, ident] of roots) {
    rememberDescendants(pid);
    signal(ident, 'SIGKILL');
  }
  for (const ident of known.values()) signal(ident, 'SIGKILL');
  roots.clear();
  known.clear();
}

let installed = false;

/** Install the exit/signal hooks once. */
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`\nbench: received ${sig}, killing started processes`);
      process.exit(130); // runs the 'exit' hook
    });
  }
}
