// Spawn a server process, learn its port from its log output, wait until it
// serves a 200, and give back a handle that can stop it by pid.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { rememberDescendants, track, untrack } from './cleanup.mjs';
import { eachLine } from './each-line.mjs';
import { signal } from './procs.mjs';
import { waitFor200 } from './probe.mjs';

const TAIL_LINES = 20;

/**
 * @param {object} spec
 * @param {string} spec.name          label used in error messages
 * @param {string[]} spec.args        arguments to `node`
 * @param {RegExp} spec.portPattern   first capture group is the port; matched on stdout and stderr
 * @param {string} spec.cwd
 * @param {Record<string, string>} [spec.env]  added to this process's environment
 * @param {number} [spec.portDeadlineMs]  time allowed for the port line to appear
 * @param {number} [spec.readyDeadlineMs] time allowed, after that, for the first 200
 * @param {number} [spec.pollIntervalMs]
 */
export async function startServer({
  name,
  args,
  portPattern,
  cwd,
  env,
  portDeadlineMs = 10_000,
  readyDeadlineMs = 10_000,
  pollIntervalMs = 10,
}) {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd, env: env ? { ...process.env, ...env } : process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ident = child.pid === undefined ? null : track(child.pid);

  const tail = [];
  let exited = null; // { code, signal } once the process is gone
  let spawnError = null;
  let port = null;
  let onPort;
  const portFound = new Promise((resolve) => { onPort = resolve; });

  child.on('error', (err) => { spawnError = err; });
  child.on('exit', (code, sig) => { exited = { code, signal: sig }; });

  eachLine(child, (line) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    const match = portPattern.exec(line);
    if (match && port === null) {
      port = Number(match[1]);
      onPort();
    }
  });

  const handle = { name, pid: child.pid, port: null, spawnToPortMs: null, spawnToReadyMs: null, stop };

  const deathError = () => {
    if (spawnError) return new Error(`${name}: failed to spawn: ${spawnError.message}`);
    if (exited) return new Error(`${name}: exited (code ${exited.code}, signal ${exited.signal}) before serving${tailText()}`);
    return null;
  };
  const tailText = () => (tail.length ? `\n  last output:\n    ${tail.join('\n    ')}` : '');

  try {
    const deadline = t0 + portDeadlineMs;
    while (port === null) {
      const err = deathError();
      if (err) throw err;
      if (performance.now() >= deadline) {
        throw new Error(`${name}: no listening line matching ${portPattern} within ${portDeadlineMs} ms${tailText()}`);
      }
      await Promise.race([portFound, sleep(10)]);
    }
    handle.port = port;
    handle.spawnToPortMs = performance.now() - t0;
    await waitFor200(handle.port, { deadlineMs: readyDeadlineMs, intervalMs: pollIntervalMs, failFast: deathError })
      .catch((err) => { throw err.message.startsWith(name) ? err : new Error(`${name}: ${err.message}${tailText()}`); });
    handle.spawnToReadyMs = performance.now() - t0;
    return handle;
  } catch (err) {
    await stop();
    throw err;
  }

  /**
   * SIGTERM by pid, wait up to `deadlineMs` for exit, then SIGKILL; finally
   * SIGKILL any descendant (worker) that outlived it.
   */
  async function stop({ deadlineMs = 10_000 } = {}) {
    if (!ident) return { code: null, signal: null, forced: false };
    const descendants = rememberDescendants(ident.pid);
    let forced = false;
    if (!exited) {
      const gone = once(child, 'exit');
      signal(ident, 'SIGTERM');
      const timer = sleep(deadlineMs).then(() => 'timeout');
      if ((await Promise.race([gone, timer])) === 'timeout') {
        forced = true;
        signal(ident, 'SIGKILL');
        await gone;
      }
    }
    let orphans = 0;
    for (const d of descendants) if (signal(d, 'SIGKILL')) orphans += 1;
    untrack(ident.pid, descendants);
    return { ...exited, forced, orphans };
  }
}
