// Faults under steady load, counted. Each scenario starts a real corral,
// keeps keep-alive clients requesting, injects its fault, and reports how many
// requests were sent, succeeded and failed (and why), with the expectation it
// checks. `npm run chaos` runs them at length; the test suite runs them short.
import { execFile, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, type CorralProcess, REPO_ROOT, fixture, isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { type LoadResult, startLoad } from '../helpers/load.js';

export interface ChaosReport {
  scenario: string;
  seconds: number;
  sent: number;
  ok: number;
  failed: number;
  /** Failure messages, counted. */
  reasons: Record<string, number>;
  expectation: string;
  met: boolean;
  notes: string[];
}

const counted = (failures: string[]) => failures.reduce<Record<string, number>>((all, reason) => ({ ...all, [reason]: (all[reason] ?? 0) + 1 }), {});

function report(scenario: string, seconds: number, load: LoadResult, expectation: string, met: boolean, notes: string[]): ChaosReport {
  return { scenario, seconds, sent: load.sent, ok: load.ok, failed: load.failures.length, reasons: counted(load.failures), expectation, met, notes };
}

/** Resident memory of a process, in MB, from /proc. */
export function rssMB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

const APP = fixture('app.js');

/** Stops corral with TERM as an operator would; resolves with every process of it still alive 5 s after it exited. */
async function survivorsAfterStop(corral: CorralProcess): Promise<number[]> {
  if (isAlive(corral.pid)) {
    corral.signal('SIGTERM');
    await corral.waitForExit(20_000);
  }
  const all = [...corral.arbiterPids(), ...corral.workerPids()];
  await waitUntil(() => all.every((pid) => !isAlive(pid)), { timeoutMs: 5000 }).catch(() => {});
  return all.filter(isAlive);
}

/** Adds the stop to a report: no process may be left behind. */
async function withCleanStop(corral: CorralProcess, result: ChaosReport): Promise<ChaosReport> {
  const survivors = await survivorsAfterStop(corral);
  return {
    ...result,
    expectation: `${result.expectation}; no process left after TERM`,
    met: result.met && survivors.length === 0,
    notes: [...result.notes, survivors.length ? `LEFT RUNNING after TERM: ${survivors.join(', ')}` : 'TERM: every process gone'],
  };
}
const countLines = (corral: CorralProcess, pattern: RegExp) => corral.lines.filter((line) => pattern.test(line)).length;

/** kill -9 a random worker every 2 s: only requests in flight on a killed worker may fail, and every one is replaced. */
export async function killNine(seconds: number, { workers = 4, clients = 16 } = {}): Promise<ChaosReport> {
  return withCorral(['-w', String(workers), '-b', '127.0.0.1:0', '--no-control-socket', APP], async (corral) => {
    const [url] = await corral.ready();
    const load = startLoad(url, { clients, path: '/pid' });
    const kills: number[] = [];
    const end = Date.now() + seconds * 1000;
    while (Date.now() + 2000 <= end) {
      await sleep(2000);
      const live = corral.liveWorkerPids();
      process.kill(live[Math.floor(Math.random() * live.length)], 'SIGKILL');
      kills.push(Date.now());
    }
    await sleep(Math.max(0, end - Date.now()));
    await waitUntil(() => corral.liveWorkerPids().length === workers, { timeoutMs: 10_000, what: 'every killed worker replaced' });
    const result = await load.stop();
    const nearAKill = result.failedAt.filter((at) => kills.some((kill) => at >= kill - 50 && at <= kill + 1000)).length;
    const replaced = corral.workerPids().length - workers;
    return withCleanStop(corral, report(
      `kill -9 a random worker every 2 s (-w ${workers}, ${clients} keep-alive clients)`,
      seconds,
      result,
      'failures only for requests in flight on a killed worker (each within 1 s of a kill, at most one per connection per kill); every killed worker replaced',
      nearAKill === result.failures.length && result.failures.length <= kills.length * clients && replaced === kills.length,
      [`${kills.length} killed, ${replaced} replacements booted`, `${nearAKill} of ${result.failures.length} failures within 1 s of a kill`],
    ));
  });
}

/** One request in 100 blocks its worker forever: the timeout replaces it; with -k sync, nothing else fails. */
export async function hangingApp(seconds: number, { kind = 'sync', workers = 4, clients = 8 } = {}): Promise<ChaosReport> {
  return withCorral(['-k', kind, '-w', String(workers), '-t', '1', '-b', '127.0.0.1:0', '--no-control-socket', fixture('chaos-hang-app.js')], async (corral) => {
    const [url] = await corral.ready();
    const load = startLoad(url, { clients });
    await sleep(seconds * 1000);
    // Every hung request ends when its worker is killed, so stopping the load waits for them all.
    const result = await load.stop();
    const hangs = countLines(corral, /chaos: hanging request/);
    const timeouts = countLines(corral, /WORKER TIMEOUT/);
    const sync = kind === 'sync';
    return withCleanStop(corral, report(
      `an app hanging 1 request in 100 forever (-k ${kind} -w ${workers} -t 1, ${clients} clients)`,
      seconds,
      result,
      sync ? 'exactly the hung requests fail (their workers time out and are replaced); every other request is served' : 'reported: the hung requests and those waiting on the same worker fail',
      sync ? hangs > 0 && result.failures.length === hangs : true,
      [`${hangs} requests hung, ${timeouts} worker timeouts, ${corral.workerPids().length - workers} replacements booted`],
    ));
  });
}

/** An app that leaks 256 KB a request: --max-requests recycles its workers without a failed request. */
export async function leakingApp(seconds: number, { clients = 8 } = {}): Promise<ChaosReport> {
  return withCorral(['-w', '2', '--max-requests', '150', '--max-requests-jitter', '30', '-b', '127.0.0.1:0', '--no-control-socket', fixture('chaos-leak-app.js')], async (corral) => {
    const [url] = await corral.ready();
    const load = startLoad(url, { clients });
    let peak = 0;
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      for (const pid of corral.liveWorkerPids()) if (existsSync(`/proc/${pid}`)) peak = Math.max(peak, rssMB(pid));
      await sleep(200);
    }
    const result = await load.stop();
    const recycled = corral.workerPids().length - 2;
    return withCleanStop(corral, report(
      `an app leaking 256 KB per request, --max-requests 150 (+ jitter 30), ${clients} clients`,
      seconds,
      result,
      '0 failed requests; workers recycled',
      result.failures.length === 0 && recycled > 0,
      [`${recycled} workers recycled`, `largest worker RSS seen ${peak.toFixed(0)} MB (a recycled worker serves on until its replacement is ready)`],
    ));
  });
}

/** HUP every 2 s, then a USR2 upgrade (WINCH and TERM retire the old arbiter), all under load: nothing fails. */
export async function reloadStorm(seconds: number, { clients = 8 } = {}): Promise<ChaosReport> {
  const tmp = mkdtempSync(join(tmpdir(), 'corral-chaos-'));
  const pidfile = join(tmp, 'corral.pid');
  const readPid = (path: string) => (existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : undefined);
  try {
    return await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-p', pidfile, '--no-control-socket', join(REPO_ROOT, 'examples/test.js')], async (corral) => {
      const [url] = await corral.ready();
      const load = startLoad(url, { clients });
      let hups = 0;
      const end = Date.now() + seconds * 1000;
      while (Date.now() + 2000 <= end) {
        await sleep(2000);
        corral.signal('SIGHUP');
        hups += 1;
      }
      await corral.waitForLine(new RegExp(`Reload complete: generation ${hups + 1} serving`), { timeoutMs: 15_000 });
      const oldWorkers = corral.liveWorkerPids();
      corral.signal('SIGUSR2');
      await waitUntil(() => readPid(`${pidfile}.2`) !== undefined, { timeoutMs: 15_000, what: 'the new arbiter' });
      const successor = readPid(`${pidfile}.2`)!;
      await corral.waitForLine(new RegExp(`\\[${successor}\\] \\[INFO\\] Ready: 2 worker`), { timeoutMs: 15_000 });
      corral.signal('SIGWINCH');
      await waitUntil(() => oldWorkers.every((pid) => !isAlive(pid)), { timeoutMs: 15_000, what: 'the old workers drained' });
      corral.signal('SIGTERM');
      await corral.processExited;
      await sleep(500);
      const result = await load.stop();
      process.kill(successor, 'SIGTERM');
      await waitUntil(() => !isAlive(successor), { timeoutMs: 15_000, what: 'the new arbiter stopped' });
      return withCleanStop(corral, report(
        `HUP every 2 s, then USR2 + WINCH + TERM, ${clients} keep-alive clients`,
        seconds,
        result,
        '0 failed requests',
        result.failures.length === 0 && result.ok > 0,
        [`${hups} rolling reloads, then an upgrade to arbiter ${successor}`],
      ));
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Hostile clients alongside good ones: slowloris, malformed requests, idle connections, garbage on the control socket. */
export async function hostileClients(seconds: number, { idle = 2000, clients = 8 } = {}): Promise<ChaosReport> {
  const runtime = mkdtempSync(join(tmpdir(), 'corral-chaos-run-'));
  const sockets = new Set<net.Socket>();
  try {
    return await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-n', 'hostile', APP], async (corral) => {
      const [url] = await corral.ready();
      const { hostname, port } = new URL(url);
      const control = join(runtime, 'corral', `hostile.${corral.pid}.sock`);
      const open = (path?: string) => {
        const socket = path ? net.connect(path) : net.connect(Number(port), hostname);
        socket.on('error', () => {});
        // Read (and drop) what the server answers, so a connection it ends can close.
        socket.resume();
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        return socket;
      };
      await sleep(1000);
      const baseline = rssMB(corral.pid);
      const load = startLoad(url, { clients, path: '/pid' });
      await waitUntil(() => load.result.ok > 50, { what: 'good clients served' });

      let stopping = false;
      const counts = { slowloris: 0, malformed: 0, idle: 0, control: 0 };
      // Slowloris: a request whose headers never end, one byte a second.
      for (let index = 0; index < 100; index += 1) {
        const socket = open();
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
        const drip = setInterval(() => (stopping || socket.destroyed ? clearInterval(drip) : socket.write('X')), 1000);
        counts.slowloris += 1;
      }
      // Idle connections, opened and never used.
      for (let index = 0; index < idle; index += 1) {
        open();
        counts.idle += 1;
        if (index % 500 === 499) await sleep(50);
      }
      const flood = (async () => {
        const garbage = ['GET / HTTP/9.9\r\n\r\n', 'G\x00T / HTTP/1.1\r\n\r\n', 'GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', '\r\n\r\n\r\n', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'];
        while (!stopping) {
          const socket = open();
          socket.end(Math.random() < 0.5 ? garbage[counts.malformed % garbage.length] : Buffer.from(Array.from({ length: 64 }, () => Math.floor(Math.random() * 256))));
          counts.malformed += 1;
          if (existsSync(control)) {
            open(control).end(Buffer.from(Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))));
            counts.control += 1;
          }
          await sleep(5);
        }
      })();
      await sleep(seconds * 1000);
      stopping = true;
      await flood;
      const result = await load.stop();
      for (const socket of sockets) socket.destroy();
      await sleep(2000);
      const after = rssMB(corral.pid);
      const share = result.sent === 0 ? 0 : result.ok / result.sent;
      // And a fresh client is served afterwards.
      const fresh = await request(url, { path: '/pid' }).catch(() => undefined);
      return withCleanStop(corral, report(
        `hostile clients beside ${clients} good ones: ${counts.slowloris} slowloris, ${counts.idle} idle connections, ${counts.malformed} malformed requests, ${counts.control} garbage writes to the control socket`,
        seconds,
        result,
        // V8 keeps the heap it grew to, so RSS does not fall back; what matters is that it stays bounded
        // (measured apart: 15,000 garbage connections to the control socket, +36 MB, then flat).
        "good clients' success ≥ 99.9%; the arbiter's memory bounded (≤ 40 MB over its baseline); a fresh client served afterwards",
        share >= 0.999 && after <= baseline + 40 && fresh?.status === 200,
        [`good clients' success ${(share * 100).toFixed(2)}%`, `arbiter RSS ${baseline.toFixed(1)} MB before, ${after.toFixed(1)} MB after`, `fresh request afterwards: ${fresh?.status ?? 'failed'}`],
      ));
    }, { env: { XDG_RUNTIME_DIR: runtime } });
  } finally {
    for (const socket of sockets) socket.destroy();
    rmSync(runtime, { recursive: true, force: true });
  }
}

/** Garbage written into one worker's IPC pipe: that worker is replaced, no request fails. */
export async function ipcGarbage(seconds: number, { clients = 8 } = {}): Promise<ChaosReport> {
  return withCorral(['-w', '2', '-b', '127.0.0.1:0', '--no-control-socket', APP], async (corral) => {
    const [url] = await corral.ready();
    const load = startLoad(url, { clients, path: '/pid' });
    await sleep((seconds * 1000) / 2);
    const culprit = Number((await request(url, { path: '/garbage' })).body);
    await corral.waitForLine(new RegExp(`Worker \\(pid:${culprit}\\) broke the IPC protocol`));
    await waitUntil(() => !isAlive(culprit) && corral.liveWorkerPids().length === 2, { timeoutMs: 10_000, what: 'the culprit replaced' });
    await sleep((seconds * 1000) / 2);
    const result = await load.stop();
    return withCleanStop(corral, report(
      `garbage written into a worker's IPC pipe, ${clients} keep-alive clients`,
      seconds,
      result,
      'that worker replaced (drained first), 0 failed requests',
      result.failures.length === 0 && corral.workerPids().length === 3,
      [`worker ${culprit} replaced; ${corral.workerPids().length - 2} replacement(s) booted in all`],
    ));
  });
}

const readText = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/**
 * The log directory moved away under load, then a reopen every 2 s (USR1 and
 * `corral ctl reopen-logs` in turn): every reopen fails, every process keeps
 * serving and says so; once the directory is back, the next reopen works.
 */
export async function logReopenFailure(seconds: number, { clients = 8 } = {}): Promise<ChaosReport> {
  const tmp = mkdtempSync(join(tmpdir(), 'corral-chaos-logs-'));
  const logs = join(tmp, 'logs');
  const errorLog = join(logs, 'error.log');
  const accessLog = join(logs, 'access.log');
  const env = { XDG_RUNTIME_DIR: join(tmp, 'run') };
  mkdirSync(logs);
  let workers: number[] = [];
  try {
    return await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-n', 'chaos-logs', '--error-logfile', errorLog, '--access-logfile', accessLog, APP], async (corral) => {
      // The error log is a file: ready and the workers are read from it, and reaped by pid at the end.
      await waitUntil(() => readText(errorLog).includes('Ready: 2 worker(s) serving'), { timeoutMs: 15_000, what: 'ready in the error log' });
      const url = /Listening at: (\S+)/.exec(readText(errorLog))![1];
      workers = [...readText(errorLog).matchAll(/Booting worker with pid: (\d+)/g)].map((match) => Number(match[1]));
      const load = startLoad(url, { clients, path: '/pid' });
      await sleep(1000);
      renameSync(logs, `${logs}.moved`);
      const ctl = () => new Promise<void>((resolve) => execFile(process.execPath, [CLI, 'ctl', 'reopen-logs', '--pid', String(corral.pid)], { env: { ...process.env, ...env } }, () => resolve()));
      let reopens = 0;
      const end = Date.now() + seconds * 1000;
      while (Date.now() + 2000 <= end) {
        await sleep(2000);
        if (reopens % 2 === 0) corral.signal('SIGUSR1');
        else await ctl();
        reopens += 1;
      }
      const failures = () => countLines(corral, /\[ERROR\] Cannot reopen the (error|access) log/);
      // Each reopen: the arbiter's error log, and each worker's error and access logs.
      const expected = reopens * (1 + 2 * workers.length);
      await waitUntil(() => failures() >= expected, { timeoutMs: 10_000, what: `${expected} failed reopens logged` }).catch(() => {});
      const failed = failures();
      // The directory back: the next reopen goes to the new files.
      mkdirSync(logs);
      corral.signal('SIGUSR1');
      const after = await waitUntil(() => readText(accessLog).includes('GET /pid'), { timeoutMs: 10_000, what: 'access lines in the new file' }).then(() => true, () => false);
      const result = await load.stop();
      const alive = [corral.pid, ...workers].every(isAlive);
      corral.signal('SIGTERM');
      await corral.waitForExit(20_000).catch(() => {});
      const survivors = workers.filter(isAlive);
      for (const pid of survivors) process.kill(pid, 'SIGKILL');
      return report(
        `log directory moved away, then a reopen every 2 s (USR1 and ctl reopen-logs in turn), -w 2, ${clients} keep-alive clients`,
        seconds,
        result,
        '0 failed requests; arbiter and workers alive and the same throughout; every failed reopen logged; after the directory is back, the next reopen writes to the new files; no process left after TERM',
        result.failures.length === 0 && result.ok > 0 && alive && failed >= expected && after && survivors.length === 0 && !corral.output.includes('unexpected failure'),
        [`${reopens} reopens failed (${failed} error lines, ${expected} expected)`, `arbiter and workers ${alive ? 'alive, none replaced' : 'NOT ALL ALIVE'}`, `after the directory came back: ${after ? 'new files written' : 'NOT REOPENED'}`, survivors.length ? `LEFT RUNNING: ${survivors.join(', ')}` : 'TERM: every process gone'],
      );
    }, { env });
  } finally {
    for (const pid of workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A small tmpfs (as root), or /dev/full where mounting is not allowed: ENOSPC either way. */
function fullDisk(): { accessLog: string; fill: () => void; release: () => void; what: string } {
  const dir = mkdtempSync(join(tmpdir(), 'corral-chaos-disk-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { accessLog: '/dev/full', fill: () => {}, release: () => {}, what: '/dev/full' };
  }
  return {
    accessLog: join(dir, 'access.log'),
    what: 'a 256 KB tmpfs, filled',
    fill() {
      const fd = openSync(join(dir, 'filler'), 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096));
      } catch {
        // full
      } finally {
        closeSync(fd);
      }
    },
    release() {
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The access log on a full disk under load, USR1 every 2 s: no request fails
 * or waits, no worker times out, every dropped line is counted (StatsD) and
 * told (rate-limited), and workers' memory stays bounded.
 */
export async function fullDiskAccessLog(seconds: number, { workers = 2, clients = 8 } = {}): Promise<ChaosReport> {
  const disk = fullDisk();
  const statsd = dgram.createSocket('udp4');
  let dropped = 0;
  statsd.on('message', (packet) => {
    for (const line of packet.toString('utf8').split('\n')) dropped += Number(/^corral\.log\.dropped:(\d+)\|c$/.exec(line)?.[1] ?? 0);
  });
  await new Promise<void>((resolve) => statsd.bind(0, '127.0.0.1', resolve));
  const statsdHost = `127.0.0.1:${(statsd.address() as AddressInfo).port}`;
  try {
    return await withCorral(['-w', String(workers), '-t', '10', '-b', '127.0.0.1:0', '--no-control-socket', '--access-logfile', disk.accessLog, '--statsd-host', statsdHost, APP], async (corral) => {
      const [url] = await corral.ready();
      disk.fill();
      const pids = corral.liveWorkerPids();
      // 2 KB access lines: what the disk refuses would show in memory within seconds if it were kept.
      const load = startLoad(url, { clients, path: `/pid?${'q'.repeat(2000)}` });
      // A probe beside the load: the slowest single answer.
      let slowest = 0;
      let probing = true;
      const probe = (async () => {
        while (probing) {
          const started = Date.now();
          await request(url, { path: '/pid', timeoutMs: 15_000 }).catch(() => {});
          slowest = Math.max(slowest, Date.now() - started);
          await sleep(100);
        }
      })();
      let signals = 0;
      const end = Date.now() + seconds * 1000;
      while (Date.now() + 2000 <= end) {
        await sleep(2000);
        corral.signal('SIGUSR1');
        signals += 1;
      }
      await sleep(Math.max(0, end - Date.now()));
      const rssAfter = Math.max(...pids.filter(isAlive).map(rssMB));
      probing = false;
      await probe;
      const result = await load.stop();
      // The last window's count is told (and sent) once its 5 s are over.
      await sleep(6000);
      const told = corral.lines.reduce((sum, line) => sum + Number(/\[ERROR\] Dropped (\d+) access log line/.exec(line)?.[1] ?? 0), 0);
      const reports = countLines(corral, /\[ERROR\] Dropped \d+ access log line/);
      const timeouts = countLines(corral, /WORKER TIMEOUT/);
      const same = pids.every(isAlive) && corral.liveWorkerPids().length === workers;
      return withCleanStop(corral, report(
        `access log (2 KB lines) on ${disk.what}, USR1 every 2 s, -w ${workers} -t 10, ${clients} keep-alive clients`,
        seconds,
        result,
        "0 failed requests; slowest answer < 1 s; no WORKER TIMEOUT, no worker replaced; dropped lines counted in StatsD and told in the error log (≤ 1 line per worker per 5 s), the counts equal; each worker's RSS ≤ 150 MB (kept, the dropped lines alone would be hundreds of MB)",
        result.failures.length === 0 && result.ok > 0 && slowest < 1000 && timeouts === 0 && same && dropped > 0 && told === dropped &&
          reports <= workers * (Math.ceil((seconds + 7) / 5) + 1) && rssAfter <= 150,
        [`${signals} USR1`, `slowest answer ${slowest} ms`, `${timeouts} worker timeouts`, `${dropped} lines dropped (StatsD), ${told} told in ${reports} error lines`, `${((dropped * 2.1) / 1024).toFixed(0)} MB of lines dropped; largest worker RSS at the end ${rssAfter.toFixed(1)} MB`],
      ));
    });
  } finally {
    await new Promise<void>((resolve) => statsd.close(() => resolve()));
    disk.release();
  }
}

/**
 * corral under a hard `ulimit -n 256` while idle connections pile up, 100 at a
 * time, to many times what the workers can hold, beside a keep-alive load:
 * the workers shed what they cannot afford, say so (rate-limited), keep
 * heartbeating and serving; nothing halts.
 */
export async function fdExhaustion(seconds: number, { workers = 2, clients = 8, limit = 256, idle = 2000 } = {}): Promise<ChaosReport> {
  const underLimit = (command: string[]): [string, string[]] => ['prlimit', [`--nofile=${limit}:${limit}`, '--', ...command]];
  return withCorral(['-w', String(workers), '-b', '127.0.0.1:0', '--no-control-socket', APP], async (corral) => {
    const [url] = await corral.ready();
    const { hostname, port } = new URL(url);
    const pids = corral.liveWorkerPids();
    const load = startLoad(url, { clients, path: '/pid' });
    const sockets: net.Socket[] = [];
    const end = Date.now() + seconds * 1000;
    const step = Math.max(50, Math.floor((seconds * 1000) / (idle / 100)));
    while (sockets.length < idle && Date.now() < end) {
      for (let index = 0; index < 100; index += 1) {
        const socket = net.connect({ host: hostname, port: Number(port) });
        socket.on('error', () => {});
        sockets.push(socket);
      }
      await sleep(step);
    }
    await sleep(Math.max(0, end - Date.now()));
    // At the height of it a fresh connection is served or shed at once, never left hanging.
    const asked = Date.now();
    const atHeight = await request(url, { path: '/pid', timeoutMs: 5000 }).then((response) => `answered ${response.status}`, (error: Error) => (/timed out/.test(error.message) ? 'hung' : 'shed'));
    const answeredIn = Date.now() - asked;
    const held = sockets.filter((socket) => !socket.destroyed && socket.readyState === 'open').length;
    sockets.forEach((socket) => socket.destroy());
    const result = await load.stop();
    // Once the idle ones are gone, fresh connections are served again.
    let after = 0;
    await waitUntil(async () => (after = await request(url, { path: '/pid', timeoutMs: 2000 }).then((response) => response.status, () => 0)) === 200, { timeoutMs: 5000 }).catch(() => {});
    const shedLines = countLines(corral, /closed \d+ new connections/);
    const halted = countLines(corral, /failed to boot|Shutting down: Master|WORKER TIMEOUT/);
    const same = pids.every(isAlive) && corral.liveWorkerPids().length === workers;
    return withCleanStop(corral, report(
      `ulimit -n ${limit}, ${sockets.length} idle connections opened beside ${clients} keep-alive clients, -w ${workers}`,
      seconds,
      result,
      'the load: 0 failed requests; connections past what the fd limit affords shed at once and logged (≤ 1 line a second a worker); no halt, no worker replaced; fresh connections served once the idle ones go',
      result.failures.length === 0 && result.ok > 0 && shedLines > 0 && shedLines <= workers * (seconds + 2) && halted === 0 && same && atHeight !== 'hung' && after === 200,
      [`${held} idle connections held at the height`, `${shedLines} shedding log lines`, `a fresh connection at the height: ${atHeight} in ${answeredIn} ms`, `after: ${after || 'no answer'}`],
    ));
  }, { launcher: underLimit });
}

export const scenarios = { killNine, hangingApp, leakingApp, reloadStorm, hostileClients, ipcGarbage, logReopenFailure, fullDiskAccessLog, fdExhaustion };
