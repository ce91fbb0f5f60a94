// PM2 for the reload bench, installed into a scratch directory (never a
// project dependency) and run with its own PM2_HOME there, so nothing outside
// that directory is touched. The PM2 daemon is adopted by pid: it is stopped
// with `pm2 kill`, and SIGKILLed with its workers if it outlives that.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rememberDescendants, track, untrack } from './cleanup.mjs';
import { freePort } from './free-port.mjs';
import { waitFor200 } from './probe.mjs';
import { isAlive, signal } from './procs.mjs';
import { waitUntil } from './reload-server.mjs';

const APP_NAME = 'corral-bench-hello';
const INSTALL_TIMEOUT_MS = 180_000;
const COMMAND_TIMEOUT_MS = 60_000;

/** The line of a failed command's output that says why: npm's `...Error: ...` line, its error code, or the last line. */
function reason(output) {
  const lines = output.split('\n').map((line) => line.replace(/^npm (error|ERR!) /, '').trim()).filter(Boolean);
  return lines.find((line) => /^\w*Error: /.test(line)) ?? lines.find((line) => /^code \w+/.test(line)) ?? lines.pop() ?? '';
}

/** Run a command to completion; tracked, so that an interrupted bench kills it (and what it started). */
function run(file, args, { env = process.env, cwd, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, cwd, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (child.pid !== undefined) untrack(child.pid);
      if (err) {
        const why = reason(`${stderr}\n${stdout}`);
        err.message = `${[file, ...args].join(' ')}: ${err.killed ? `timed out after ${timeoutMs} ms` : `exit ${err.code}`}${why ? ` (${why})` : ''}`;
        reject(err);
      } else resolve(stdout);
    });
    if (child.pid !== undefined) track(child.pid);
  });
}


/**
 * `npm install --prefix <scratch> pm2`. Resolves to `{ dir, version, remove }`;
 * rejects with a one-line reason when it cannot be installed.
 */
export async function installPm2() {
  const dir = mkdtempSync(join(tmpdir(), 'corral-bench-pm2-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    await run(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', 'pm2'], { timeoutMs: INSTALL_TIMEOUT_MS });
    const pkg = join(dir, 'node_modules/pm2/package.json');
    if (!existsSync(pkg)) throw new Error('npm install reported success but node_modules/pm2 is missing');
    return { dir, version: JSON.parse(readFileSync(pkg, 'utf8')).version, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/**
 * Start `bench/peers/pm2-app.mjs` in PM2 cluster mode, `instances` workers
 * on a fixed free port, serving `app` (default examples/test.js). Returns a
 * handle with `reload()` (`pm2 reload`, resolves once PM2 reports it done) and
 * `stop()` (`pm2 kill`). `keepAlive`: seconds an idle connection is kept.
 */
export async function startPm2Cluster({ dir, cwd, instances, app = 'examples/test.js', keepAlive }) {
  const port = await freePort();
  const home = join(dir, 'home');
  const env = {
    ...process.env,
    PM2_HOME: home,
    BENCH_PM2_PORT: String(port),
    BENCH_PM2_APP: join(cwd, app),
    ...(keepAlive ? { BENCH_KEEPALIVE_S: String(keepAlive) } : {}),
  };
  const bin = join(dir, 'node_modules/pm2/bin/pm2');
  const pm2 = (args) => run(process.execPath, [bin, ...args], { env, cwd, timeoutMs: COMMAND_TIMEOUT_MS });

  let daemon = null;
  const handle = {
    name: 'pm2',
    port,
    pid: null,
    reload: () => pm2(['reload', APP_NAME]),
    stop,
  };
  try {
    await pm2(['start', 'bench/peers/pm2-app.mjs', '--name', APP_NAME, '-i', String(instances)]);
    await waitUntil(findDaemon, { timeoutMs: 5_000, what: 'the PM2 daemon pidfile' });
    handle.pid = daemon.pid;
    await waitFor200(port, { deadlineMs: 10_000 });
    return handle;
  } catch (err) {
    await stop();
    throw err;
  }

  /** Track the daemon as soon as its pidfile names it. */
  function findDaemon() {
    if (daemon) return daemon;
    const pidFile = join(home, 'pm2.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    if (Number.isInteger(pid) && pid > 0) daemon = track(pid);
    return daemon;
  }

  async function stop() {
    findDaemon();
    const descendants = daemon ? rememberDescendants(daemon.pid) : [];
    let forced = false;
    try {
      await pm2(['kill']);
    } catch {
      forced = true;
    }
    if (daemon && isAlive(daemon)) {
      signal(daemon, 'SIGTERM');
      try {
        await waitUntil(() => !isAlive(daemon), { timeoutMs: 5_000, what: 'the PM2 daemon to exit', intervalMs: 50 });
      } catch {
        forced = true;
        signal(daemon, 'SIGKILL');
      }
    }
    let orphans = 0;
    for (const d of descendants) if (signal(d, 'SIGKILL')) orphans += 1;
    if (daemon) untrack(daemon.pid, descendants);
    return { forced, orphans };
  }
}
