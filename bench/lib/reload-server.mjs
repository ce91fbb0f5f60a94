// A server process for the reload bench whose log lines can be waited for and
// counted while it runs (reloads are driven by its signals and observed
// through its log). Processes it hands over to (a USR2 upgrade's new arbiter)
// can be adopted, so that stop() ends them by pid too.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { rememberDescendants, track, untrack } from './cleanup.mjs';
import { eachLine } from './each-line.mjs';
import { waitFor200 } from './probe.mjs';
import { isAlive, signal } from './procs.mjs';

const KEPT_LINES = 20_000;

/** Poll `predicate` every `intervalMs` until it returns a truthy value; reject after `timeoutMs`. */
export async function waitUntil(predicate, { timeoutMs, what, intervalMs = 20 }) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * @param {object} spec
 * @param {string} spec.name        label used in error messages
 * @param {string[]} spec.args      arguments to `node`
 * @param {string} spec.cwd
 * @param {RegExp} spec.portPattern first capture group is the port; matched on stdout and stderr
 * @param {RegExp} [spec.readyPattern] a line that must also be seen before the server counts as started
 * @param {object} [spec.env]
 */
export async function startWatchedServer({ name, args, cwd, portPattern, readyPattern, env = process.env }) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ident = child.pid === undefined ? null : track(child.pid);
  const adopted = []; // idents of processes this one handed over to
  const lines = [];
  const listeners = new Set();
  let exited = null;
  let spawnError = null;

  child.on('error', (err) => { spawnError = err; });
  child.on('exit', (code, sig) => { exited = { code, signal: sig }; });

  eachLine(child, (line) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
    for (const listener of listeners) listener(line);
  });

  const tail = (n = 15) => (lines.length ? `\n  last output:\n    ${lines.slice(-n).join('\n    ')}` : '');
  const deathError = () => {
    if (spawnError) return new Error(`${name}: failed to spawn: ${spawnError.message}`);
    if (exited) return new Error(`${name}: exited (code ${exited.code}, signal ${exited.signal})${tail()}`);
    return null;
  };

  const handle = {
    name,
    pid: child.pid,
    port: null,
    lines,
    tail,
    /** Lines seen so far that match `pattern`. */
    count: (pattern) => lines.reduce((n, line) => n + (pattern.test(line) ? 1 : 0), 0),
    /** Resolves with the next line matching `pattern` (or an earlier one, with `includePast`). */
    waitForLine(pattern, { timeoutMs, what = String(pattern), includePast = false }) {
      if (includePast) {
        const seen = lines.find((line) => pattern.test(line));
        if (seen !== undefined) return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`${name}: no line matching ${what} within ${timeoutMs} ms${tail(5)}`));
        }, timeoutMs);
        function listener(line) {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(line);
        }
        listeners.add(listener);
      });
    },
    signal: (sig) => (ident ? signal(ident, sig) : false),
    isAlive: () => (ident ? isAlive(ident) : false),
    /** Take charge of another process (stopped with this one, killed on exit if need be). */
    adopt(pid) {
      const adoptedIdent = track(pid);
      if (adoptedIdent) adopted.push(adoptedIdent);
      return adoptedIdent;
    },
    stop,
  };

  try {
    const port = await waitUntil(() => {
      const err = deathError();
      if (err) throw err;
      for (const line of lines) {
        const match = portPattern.exec(line);
        if (match) return Number(match[1]);
      }
      return null;
    }, { timeoutMs: 10_000, what: `${name}: a listening line matching ${portPattern}` });
    handle.port = port;
    if (readyPattern) {
      await waitUntil(() => {
        const err = deathError();
        if (err) throw err;
        return lines.some((line) => readyPattern.test(line));
      }, { timeoutMs: 15_000, what: `${name}: a line matching ${readyPattern}` });
    }
    await waitFor200(port, { deadlineMs: 10_000, failFast: deathError })
      .catch((err) => { throw err.message.startsWith(name) ? err : new Error(`${name}: ${err.message}${tail()}`); });
    return handle;
  } catch (err) {
    await stop();
    throw err;
  }

  /**
   * SIGTERM by pid to this process and every adopted one still alive, wait up
   * to `deadlineMs` for them to go, then SIGKILL; finally SIGKILL any
   * descendant (worker) that outlived them.
   */
  async function stop({ deadlineMs = 10_000 } = {}) {
    const roots = [ident, ...adopted].filter((x) => x && isAlive(x));
    const descendants = roots.flatMap((root) => rememberDescendants(root.pid));
    for (const root of roots) signal(root, 'SIGTERM');
    let forced = false;
    try {
      await waitUntil(() => roots.every((root) => !isAlive(root)), { timeoutMs: deadlineMs, what: 'exit', intervalMs: 50 });
    } catch {
      forced = true;
      for (const root of roots) signal(root, 'SIGKILL');
      await waitUntil(() => roots.every((root) => !isAlive(root)), { timeoutMs: 5_000, what: 'exit after SIGKILL', intervalMs: 50 })
        .catch(() => {});
    }
    let orphans = 0;
    for (const d of descendants) if (signal(d, 'SIGKILL')) orphans += 1;
    for (const root of [ident, ...adopted]) if (root) untrack(root.pid, descendants);
    return { exited, forced, orphans };
  }
}
