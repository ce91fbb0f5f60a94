// A worker leads a process group of its own (the arbiter spawns it detached), so
// what its app started in it can be ended with it.

/** Ends every process in the group `leader` leads; false when there was none to signal. */
export function endProcessGroup(leader: number = process.pid): boolean {
  try {
    process.kill(-leader, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
