// Load generation with Debian's wrk, a native generator pinned to one core
// (`taskset -c 1`) so that it takes a known share of the machine, not the
// server's. Installed with apt-get when missing and this is root.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The core wrk runs on; the server has the others (on this 2-core machine, core 0 alone is the server's by default). */
export const WRK_CORE = process.env.BENCH_WRK_CORE ?? '1';

let wrkChecked;
/** wrk's version line, installing it first if it is missing and apt-get can; throws with the reason when it cannot be had. */
export function wrkVersion() {
  if (wrkChecked) return wrkChecked;
  // "wrk debian/4.1.0-3+b2 [epoll] Copyright …" → "wrk debian/4.1.0-3+b2"
  const version = () => spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0]?.split(' ').slice(0, 2).join(' ');
  if (!version() && process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['install', '-y', '-q', 'wrk'], { stdio: 'ignore', timeout: 180_000, env });
    if (!version()) {
      spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore', timeout: 180_000, env });
      spawnSync('apt-get', ['install', '-y', '-q', 'wrk'], { stdio: 'ignore', timeout: 180_000, env });
    }
  }
  wrkChecked = version();
  if (!wrkChecked) throw new Error('wrk is not installed and apt-get could not install it (apt-get install wrk)');
  return wrkChecked;
}

const hasTaskset = () => spawnSync('taskset', ['--version']).status === 0;

/** A Lua script for wrk: method, body and headers of every request. */
function scriptFor({ method = 'GET', body, headers = {} }) {
  const lines = [`wrk.method = "${method}"`];
  if (body) lines.push(`wrk.body = string.rep("x", ${body.length})`);
  for (const [name, value] of Object.entries(headers)) lines.push(`wrk.headers["${name}"] = "${value}"`);
  return `${lines.join('\n')}\n`;
}

const toMs = (value, unit) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? NaN);

/** What wrk printed, as numbers: requests, req/s, p50/p99 (ms), errors (socket errors and non-2xx/3xx). */
export function parseWrk(text) {
  const number = (pattern) => Number(pattern.exec(text)?.[1] ?? NaN);
  const percentile = (p) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    return match ? toMs(match[1], match[2]) : NaN;
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const [connect, read, write, timeout] = socketErrors ? socketErrors.slice(1).map(Number) : [0, 0, 0, 0];
  const non2xx = number(/Non-2xx or 3xx responses: (\d+)/) || 0;
  return {
    total: number(/(\d+) requests in /),
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p50: percentile(50),
    p99: percentile(99),
    // A read error is what wrk counts when a server closes a connection it asked to close (Connection: close).
    errors: connect + write + timeout + non2xx,
    readErrors: read,
    timeouts: timeout,
    non2xx,
  };
}

/**
 * One wrk run against http://127.0.0.1:PORT/, one thread per connection group on
 * the pinned core. `close: true` sends `Connection: close` (a connection per request).
 */
export async function runWrk(port, { connections, durationSec, method, body, close = false, path = '/' }) {
  wrkVersion();
  const dir = mkdtempSync(join(tmpdir(), 'corral-wrk-'));
  try {
    const script = join(dir, 'request.lua');
    writeFileSync(script, scriptFor({ method, body, headers: close ? { Connection: 'close' } : {} }));
    const wrkArgs = ['-t1', `-c${connections}`, `-d${durationSec}s`, '--latency', '--timeout', '10s', '-s', script, `http://127.0.0.1:${port}${path}`];
    const [file, args] = hasTaskset() ? ['taskset', ['-c', WRK_CORE, 'wrk', ...wrkArgs]] : ['wrk', wrkArgs];
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}`);
    return parseWrk(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
