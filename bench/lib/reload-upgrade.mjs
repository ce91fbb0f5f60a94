// One corral binary upgrade, the documented way: USR2 to the arbiter starts a
// new arbiter on the same listening sockets (it writes PIDFILE.2); once the new
// one serves, WINCH stops the old arbiter's workers gracefully and TERM ends
// the old arbiter; the new one then renames its pidfile to PIDFILE.
import { existsSync, readFileSync } from 'node:fs';
import { childrenOf, identify, isAlive } from './procs.mjs';
import { waitUntil } from './reload-server.mjs';

const readPid = (path) => {
  if (!existsSync(path)) return null;
  const pid = Number(readFileSync(path, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
};

/**
 * Upgrade the corral started as `server` (with `-p pidfile`). The new arbiter
 * is adopted by `server`, so that stopping `server` stops it. Resolves to the
 * time each step took (ms); rejects naming the step that did not happen.
 */
export async function upgradeArbiter(server, { pidfile, workerTimeoutMs = 40_000 }) {
  const steps = {};
  let t = performance.now();
  const step = (name) => {
    const now = performance.now();
    steps[name] = Math.round(now - t);
    t = now;
  };

  const oldArbiter = identify(server.pid);
  if (!oldArbiter) throw new Error('upgrade: the arbiter is not running');
  const oldWorkers = childrenOf(oldArbiter.pid).map(identify).filter(Boolean);

  server.signal('SIGUSR2');
  const newPid = await waitUntil(() => readPid(`${pidfile}.2`), { timeoutMs: 15_000, what: `upgrade: ${pidfile}.2 after USR2` });
  const newArbiter = server.adopt(newPid);
  if (!newArbiter) throw new Error(`upgrade: new arbiter ${newPid} named by ${pidfile}.2 is not running`);
  await server.waitForLine(new RegExp(`\\[${newPid}\\] \\[INFO\\] Ready: `), {
    timeoutMs: 20_000, includePast: true, what: `"Ready:" from the new arbiter ${newPid}`,
  });
  step('usr2ToReady');

  server.signal('SIGWINCH');
  await waitUntil(() => oldWorkers.every((w) => !isAlive(w)), { timeoutMs: workerTimeoutMs, what: 'upgrade: the old workers to exit after WINCH' });
  step('winchToWorkersGone');

  server.signal('SIGTERM');
  await waitUntil(() => !isAlive(oldArbiter), { timeoutMs: 15_000, what: 'upgrade: the old arbiter to exit after TERM' });
  step('termToExit');

  await waitUntil(() => readPid(pidfile) === newPid, { timeoutMs: 10_000, what: `upgrade: ${pidfile} to name the new arbiter ${newPid}` });
  step('pidfileRenamed');
  if (!isAlive(newArbiter)) throw new Error(`upgrade: the new arbiter ${newPid} died`);
  return { newPid, steps };
}
