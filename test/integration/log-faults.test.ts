// Log files that fail under a running server, through the real CLI: a reopen
// (USR1, `corral ctl reopen-logs`) that cannot open the path again, and an
// access log on a full disk. The server keeps serving; the failure is logged
// where it can still go, dropped lines are counted, and memory stays bounded.
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, fixture, isAlive, killLeftovers, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const isRoot = process.getuid?.() === 0;
const app = fixture('app.js');
const tmp = mkdtempSync(join(tmpdir(), 'corral-log-faults-'));

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** With --error-logfile nothing reaches the helper's pipes but what goes to stderr: ready and the workers are read from the file. */
async function readyFromFile(errorLog: string, workers: number): Promise<{ url: string; workers: number[] }> {
  await waitUntil(() => read(errorLog).includes(`Ready: ${workers} worker(s) serving`), { timeoutMs: 15_000, what: 'ready in the error log' });
  const text = read(errorLog);
  return { url: /Listening at: (\S+)/.exec(text)![1], workers: [...text.matchAll(/Booting worker with pid: (\d+)/g)].map((match) => Number(match[1])) };
}

/** `count` requests, each answered 200 within `withinMs`. */
async function assertServing(url: string, count: number, withinMs = 2000) {
  for (let index = 0; index < count; index += 1) {
    const started = Date.now();
    const response = await request(url, { path: `/check/${index}`, timeoutMs: withinMs });
    assert.is(response.status, 200);
    assert.ok(Date.now() - started < withinMs, `answered in ${Date.now() - started} ms`);
  }
}


test('USR1 with the log directory moved away: everyone keeps serving, each failed reopen is logged, a later USR1 reopens', async () => {
  const logs = join(tmp, 'moved-logs');
  const moved = join(tmp, 'moved-logs.away');
  mkdirSync(logs);
  const errorLog = join(logs, 'error.log');
  const accessLog = join(logs, 'access.log');
  let workers: number[] = [];
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--no-control-socket', '--error-logfile', errorLog, '--access-logfile', accessLog, app], async (corral) => {
    try {
      const started = await readyFromFile(errorLog, 2);
      workers = started.workers;
      await assertServing(started.url, 2);

      renameSync(logs, moved);
      corral.signal('SIGUSR1');
      // Every process says so on stderr, which does not depend on the path...
      for (const pid of [corral.pid, ...workers]) {
        await corral.waitForLine(new RegExp(`\\[${pid}\\] \\[ERROR\\] Cannot reopen the error log ${errorLog}: ENOENT`), { timeoutMs: 10_000 });
      }
      for (const pid of workers) await corral.waitForLine(new RegExp(`\\[${pid}\\] \\[ERROR\\] Cannot reopen the access log ${accessLog}: ENOENT`));
      // ...and in the file it still writes to, now under the moved directory.
      await waitUntil(() => /\[ERROR\] Cannot reopen the error log .*: ENOENT/.test(read(join(moved, 'error.log'))), { what: 'the failure in the old file' });

      await assertServing(started.url, 10);
      assert.ok(isAlive(corral.pid), 'the arbiter is alive');
      for (const pid of workers) assert.ok(isAlive(pid), `worker ${pid} is alive, not replaced`);
      assert.not.match(corral.output, /unexpected failure/);

      // The operator puts the directory back: the next reopen works, later lines go to the new files.
      mkdirSync(logs);
      const failures = () => corral.lines.filter((line) => /Cannot reopen/.test(line)).length;
      const failed = failures();
      assert.is(failed, 5, corral.output);
      corral.signal('SIGUSR1');
      for (const pid of workers) await waitUntil(() => read(join(moved, 'error.log')).split('\n').filter((line) => line.includes(`[${pid}] [INFO] Reopening log files`)).length === 2, { what: `worker ${pid} reopening again` });
      await request(started.url, { path: '/after-reopen' });
      await waitUntil(() => read(accessLog).includes('GET /after-reopen'), { what: 'the access line in the new file' });
      assert.is(failures(), failed, corral.output);
      corral.signal('SIGTERM');
      assert.equal(await corral.waitForExit(15_000), { code: 0, signal: null });
    } finally {
      killLeftovers(corral, workers);
    }
  });
  // The new error log has every process's last lines.
  for (const pid of workers) assert.match(read(errorLog), new RegExp(`\\[${pid}\\] \\[INFO\\] Worker exiting`));
  assert.match(read(errorLog), /\[INFO\] Shutting down: Master/);
});

if (isRoot) {
  test('ctl reopen-logs after a logrotate `create 0600 root root`: workers running as nobody get EACCES, log it and keep serving', async () => {
    const logs = join(tmp, 'rotated');
    mkdirSync(logs);
    const runtime = join(tmp, 'run');
    const errorLog = join(logs, 'error.log');
    const accessLog = join(logs, 'access.log');
    let workers: number[] = [];
    const env = { XDG_RUNTIME_DIR: runtime };
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-u', 'nobody', '-n', 'rotated', '--error-logfile', errorLog, '--access-logfile', accessLog, app], async (corral) => {
      try {
        const started = await readyFromFile(errorLog, 2);
        workers = started.workers;
        await assertServing(started.url, 2);

        // logrotate: move the files, create new ones only root can open, tell the server.
        for (const path of [errorLog, accessLog]) {
          renameSync(path, `${path}.1`);
          writeFileSync(path, '', { mode: 0o600 });
          chmodSync(path, 0o600);
        }
        const ctl = spawnSync(process.execPath, [CLI, 'ctl', 'reopen-logs', '--pid', String(corral.pid)], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
        assert.is(ctl.status, 0, ctl.stderr);
        for (const pid of workers) {
          await corral.waitForLine(new RegExp(`\\[${pid}\\] \\[ERROR\\] Cannot reopen the error log ${errorLog}: EACCES`), { timeoutMs: 10_000 });
          await corral.waitForLine(new RegExp(`\\[${pid}\\] \\[ERROR\\] Cannot reopen the access log ${accessLog}: EACCES`));
        }
        // The workers still write to the rotated files; the arbiter (root) reopened its own (checked once it stopped).
        await waitUntil(() => workers.every((pid) => read(`${errorLog}.1`).includes(`[${pid}] [ERROR] Cannot reopen the access log`)), { what: 'the failures in the rotated file' });
        await assertServing(started.url, 10);
        await request(started.url, { path: '/after-rotate' });
        await waitUntil(() => read(`${accessLog}.1`).includes('GET /after-rotate'), { what: 'the access line in the rotated file' });
        for (const pid of [corral.pid, ...workers]) assert.ok(isAlive(pid), `${pid} is alive`);
        corral.signal('SIGTERM');
        assert.equal(await corral.waitForExit(15_000), { code: 0, signal: null });
      } finally {
        killLeftovers(corral, workers);
      }
    }, { env });
    assert.match(read(errorLog), /\[INFO\] Shutting down: Master/);
    assert.not.match(read(errorLog), /Worker exiting/, 'the workers could not reopen: their last lines are in the rotated file');
    assert.match(read(`${errorLog}.1`), /Worker exiting/);
  });
}

if (isRoot) {
  test('USR1 to an arbiter running as nobody after a logrotate `create 0600 root root`: EACCES logged, the server keeps serving', async () => {
    const logs = join(tmp, 'as-nobody');
    // nobody must reach the directory: the test's own temporary directory is root's alone.
    chmodSync(tmp, 0o755);
    mkdirSync(logs);
    chownSync(logs, 65534, 65534);
    const errorLog = join(logs, 'error.log');
    let workers: number[] = [];
    // The whole server as nobody, as a server started by an unprivileged service manager is.
    const launcher = (command: string[]): [string, string[]] => ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...command]];
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--no-control-socket', '--error-logfile', errorLog, app], async (corral) => {
      try {
        const started = await readyFromFile(errorLog, 2).catch((error: Error) => {
          throw new Error(`${error.message}:\n${corral.output}`);
        });
        workers = started.workers;
        renameSync(errorLog, `${errorLog}.1`);
        writeFileSync(errorLog, '', { mode: 0o600 });
        chmodSync(errorLog, 0o600);
        corral.signal('SIGUSR1');
        for (const pid of [corral.pid, ...workers]) {
          await corral.waitForLine(new RegExp(`\\[${pid}\\] \\[ERROR\\] Cannot reopen the error log ${errorLog}: EACCES: permission denied`), { timeoutMs: 10_000 });
        }
        await assertServing(started.url, 10);
        for (const pid of [corral.pid, ...workers]) assert.ok(isAlive(pid), `${pid} is alive`);
        await waitUntil(() => read(`${errorLog}.1`).includes(`[${corral.pid}] [ERROR] Cannot reopen the error log`), { what: 'the failure in the file still open' });
        assert.is(read(errorLog), '', 'nothing reached the file it cannot open');
      } finally {
        killLeftovers(corral, workers);
      }
    }, { launcher });
  });
}

// ── A full disk ──────────────────────────────────────────────────────────

/** Runs `body` with a small tmpfs mounted (as root), always unmounted afterwards. */
async function withTinyDisk(body: (disk: string) => Promise<void>) {
  const disk = mkdtempSync(join(tmp, 'disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk], { encoding: 'utf8' });
  assert.is(mounted.status, 0, `mount: ${mounted.stderr}`);
  try {
    await body(disk);
  } finally {
    // Lazy: a worker still holding its file open must not keep the mount.
    spawnSync('umount', ['-l', disk]);
    rmSync(disk, { recursive: true, force: true });
  }
}

/** Writes a filler file until the disk is full. */
function fillDisk(disk: string) {
  const fd = openSync(join(disk, 'filler'), 'w');
  const block = Buffer.alloc(4096, 120);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    assert.is((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

/** A StatsD agent stand-in: every line received. */
async function statsdListener() {
  const socket = dgram.createSocket('udp4');
  const lines: string[] = [];
  socket.on('message', (packet) => lines.push(...packet.toString('utf8').split('\n')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: (socket.address() as AddressInfo).port, lines, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

const rssMB = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

if (isRoot) {
  test('access log on a full disk, then USR1: workers answer promptly throughout, no WORKER TIMEOUT', async () => {
    await withTinyDisk(async (disk) => {
      const accessLog = join(disk, 'access.log');
      await withCorral(['-w', '2', '-t', '10', '--graceful-timeout', '3', '-b', '127.0.0.1:0', '--no-control-socket', '--access-logfile', accessLog, app], async (corral) => {
        const [url] = await corral.ready();
        await assertServing(url, 4);
        fillDisk(disk);
        await assertServing(url, 50);
        const workers = corral.liveWorkerPids();
        corral.signal('SIGUSR1');
        for (const pid of workers) await corral.waitForLine(new RegExp(`\\[${pid}\\] \\[INFO\\] Reopening log files`));
        // Requests keep being answered well under the 10 s timeout, for some seconds after the signal.
        const until = Date.now() + 3000;
        let served = 0;
        while (Date.now() < until) {
          await assertServing(url, 1, 1000);
          served += 1;
        }
        assert.ok(served > 20, `${served} requests served in 3 s`);
        corral.signal('SIGUSR1');
        await assertServing(url, 20, 1000);
        assert.not.match(corral.output, /WORKER TIMEOUT/);
        assert.equal(corral.liveWorkerPids().sort(), workers.sort(), 'no worker replaced');
      });
    });
  });

  test('access log on a full disk: dropped lines counted in the error log (rate-limited) and in StatsD, worker memory bounded', async () => {
    const statsd = await statsdListener();
    try {
      await withTinyDisk(async (disk) => {
        const accessLog = join(disk, 'access.log');
        await withCorral(['-w', '1', '--graceful-timeout', '3', '-b', '127.0.0.1:0', '--no-control-socket', '--access-logfile', accessLog, '--statsd-host', `127.0.0.1:${statsd.port}`, app], async (corral) => {
          const [url] = await corral.ready();
          await assertServing(url, 4);
          await waitUntil(() => read(accessLog).includes('GET /check/3'), { what: 'the first lines written' });
          fillDisk(disk);
          const [worker] = corral.liveWorkerPids();
          // Requests with an 8 KB User-Agent (in the default format): 24 MB of access log per 3000 that cannot be written.
          const headers = { 'user-agent': 'x'.repeat(8000) };
          const drive = async (count: number) => {
            for (let index = 0; index < count; index += 8) {
              await Promise.all(Array.from({ length: 8 }, () => request(url, { path: '/full', headers }).then((response) => assert.is(response.status, 200))));
            }
          };
          const started = Date.now();
          const requests = 6000;
          // The first half lets the heap grow to what serving such requests takes; the second must not add to it.
          await drive(requests / 2);
          const rssHalfway = rssMB(worker);
          await drive(requests / 2);
          const rssGrowth = rssMB(worker) - rssHalfway;
          assert.ok(rssGrowth < 8, `worker RSS grew by ${rssGrowth.toFixed(1)} MB over 3000 requests whose 24 MB of lines could not be written`);

          // The error log says so, with a count, at most once per 5 s window (and the window's rest after it).
          const reportLine = new RegExp(`\\[${worker}\\] \\[ERROR\\] Dropped (\\d+) access log line\\(s\\)`);
          await corral.waitForLine(reportLine, { timeoutMs: 10_000 });
          // Every line of the load is reported once its window ends.
          const countsIn = (lines: string[], pattern: RegExp) => lines.flatMap((line) => {
            const match = pattern.exec(line);
            return match ? [Number(match[1])] : [];
          });
          const reported = () => countsIn(corral.lines, reportLine);
          const sum = (counts: number[]) => counts.reduce((total, count) => total + count, 0);
          await waitUntil(() => sum(reported()) >= requests - 50, { timeoutMs: 15_000, what: `${requests} dropped lines reported` });
          const elapsedS = (Date.now() - started) / 1000;
          assert.ok(reported().length <= Math.ceil(elapsedS / 5) + 1, `${reported().length} report lines in ${elapsedS.toFixed(1)} s: rate-limited to one per 5 s`);
          assert.match(corral.lines.find((line) => reportLine.test(line))!, /ENOSPC/);

          // The StatsD counter carries the same count.
          const counted = () => sum(countsIn(statsd.lines, /^corral\.log\.dropped:(\d+)\|c$/));
          await waitUntil(() => counted() >= sum(reported()), { timeoutMs: 5000, what: `corral.log.dropped adding up to ${sum(reported())}; got ${counted()}` });
          assert.is(counted(), sum(reported()));
          assert.ok(corral.liveWorkerPids().includes(worker), 'the worker is the same');
        });
      });
    } finally {
      await statsd.close();
    }
  });
}

test('both logs on /dev/full: the server boots and serves; the error log\'s own drops are told on stderr, rate-limited', async () => {
  const socket = join(tmp, 'full.sock');
  let workers: number[] = [];
  await withCorral(['-w', '2', '-b', `unix:${socket}`, '--no-control-socket', '--error-logfile', '/dev/full', '--access-logfile', '/dev/full', app], async (corral) => {
   try {
    // Nothing the arbiter logs can be written: it says so where it still can.
    const { match } = await corral.waitForLine(/^\[[^\]]+\] \[(\d+)\] \[ERROR\] Dropped \d+ error log line\(s\) \(\d+ since this process started\): ENOSPC: no space left on device, write \(\/dev\/full\)/, { timeoutMs: 10_000 });
    assert.is(Number(match[1]), corral.pid);
    await waitUntil(() => existsSync(socket), { timeoutMs: 10_000, what: 'the socket bound' });
    await waitUntil(() => request(`unix:${socket}`, { timeoutMs: 2000 }).then((response) => response.status === 200, () => false), { timeoutMs: 15_000, what: 'served' });
    // No line tells the workers' pids: the arbiter's children they are, reaped by pid if the test fails.
    workers = readFileSync(`/proc/${corral.pid}/task/${corral.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    await assertServing(`unix:${socket}`, 20);
    // The arbiter logged a dozen lines at start, the workers some too: one report per process per 5 s at most.
    const reports = corral.lines.filter((line) => / \[ERROR\] Dropped \d+ error log line/.test(line));
    assert.ok(reports.length <= 3 * 2, reports.join('\n'));
    corral.signal('SIGTERM');
    assert.equal(await corral.waitForExit(15_000), { code: 0, signal: null });
   } finally {
    killLeftovers(corral, workers);
   }
  });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
