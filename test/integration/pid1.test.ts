// corral as a container's init, for real: PID 1 of a new PID namespace
// (`unshare --pid --fork --mount-proc`, as root). An app abandons grandchildren
// (each exits with code 3, a worker's boot-failure code, after 0.2 s); the
// kernel re-parents them to PID 1. Under corral-init they are reaped, never
// taken for workers; TERM still drains and the namespace's init exits 0.
// Node itself cannot wait for a process it did not start: corral as PID 1
// says so, and (where node cannot exec corral-init for it) the orphan stays
// a zombie, but the server is unaffected.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, fixture, waitUntil } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const INIT = `${REPO_ROOT}src/init/corral-init`;
const hasExecve = typeof (process as unknown as { execve?: unknown }).execve === 'function';

const skipReason = (() => {
  if (process.getuid?.() !== 0) return 'needs root for a PID namespace';
  try {
    execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore' });
    return undefined;
  } catch (error) {
    return `unshare --pid cannot run here (${(error as Error).message.split('\n')[0]})`;
  }
})();

/** A command run as PID 1 of a new PID namespace; the namespace dies with `unshare` (--kill-child). */
class Namespace {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(command: string[]) {
    this.child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', ...command], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (chunk: Buffer) => {
      const complete = (partial + chunk.toString('utf8')).split('\n');
      partial = complete.pop()!;
      this.lines.push(...complete);
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  get output() {
    return this.lines.join('\n');
  }

  /** The host's pid of the namespace's PID 1: unshare's only child. */
  initPid(): number {
    const pid = this.child.pid!;
    return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
  }

  async line(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    let found: RegExpExecArray | null = null;
    await waitUntil(() => this.lines.some((line) => (found = pattern.exec(line)) !== null), { timeoutMs, what: `${pattern} in:\n${this.output}` });
    return found!;
  }

  /** Whatever happened: unshare is killed, and with it (--kill-child) PID 1 and so the whole namespace. */
  async end() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

const corralCommand = ['-w', '2', '-b', '127.0.0.1:0', '--graceful-timeout', '5', fixture('abandon-app.js')];

/** Abandons three grandchildren; returns their pids (as the namespace numbers them). */
async function abandon(url: string): Promise<number[]> {
  const pids: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const response = await request(url, { path: '/abandon' });
    assert.is(response.status, 200);
    assert.match(response.body, /^\d+$/, response.body);
    pids.push(Number(response.body));
  }
  return pids;
}

const stateOf = async (url: string, pid: number) => (await request(url, { path: `/state?pid=${pid}` })).body;

async function termDrainsAndExitsZero(namespace: Namespace) {
  process.kill(namespace.initPid(), 'SIGTERM');
  await namespace.line(/Handling signal: term/);
  const code = await Promise.race([namespace.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
  assert.is(code, 0, `PID 1 exit status; output:\n${namespace.output}`);
  assert.match(namespace.output, /Shutting down: Master/);
}

const assertNoWorkerTrouble = (namespace: Namespace) => {
  assert.not.match(namespace.output, /Worker \(pid:\d+\) (exited|was terminated)|failed to boot|Shutting down.*halt/i, namespace.output);
  assert.is(namespace.lines.filter((line) => /Booting worker with pid/.test(line)).length, 2, 'no worker was replaced');
};

test('under corral-init as PID 1: abandoned grandchildren are reaped, not taken for workers; TERM drains and exits 0', async () => {
  if (skipReason) return console.log(`  skipped: ${skipReason}`);
  const namespace = new Namespace(['sh', INIT, process.execPath, CLI, ...corralCommand]);
  try {
    const [, url] = await namespace.line(/Listening at: (\S+)/);
    await namespace.line(/Ready: 2 worker/);
    assert.not.match(namespace.output, /Running as PID 1/, 'corral is not PID 1 under corral-init');
    const orphans = await abandon(url);
    for (const pid of orphans) {
      await waitUntil(async () => (await stateOf(url, pid)) === 'gone', { timeoutMs: 3000, what: `orphan ${pid} to be reaped` });
    }
    assert.is((await request(url)).status, 200);
    assertNoWorkerTrouble(namespace);
    await termDrainsAndExitsZero(namespace);
  } finally {
    await namespace.end();
  }
});

test(`node as PID 1${hasExecve ? ' re-executes under corral-init' : ' says it cannot reap'}: orphans never count as workers; TERM drains and exits 0`, async () => {
  if (skipReason) return console.log(`  skipped: ${skipReason}`);
  const namespace = new Namespace([process.execPath, CLI, ...corralCommand]);
  try {
    const [, url] = await namespace.line(/Listening at: (\S+)/);
    await namespace.line(/Ready: 2 worker/);
    const orphans = await abandon(url);
    if (hasExecve) {
      for (const pid of orphans) await waitUntil(async () => (await stateOf(url, pid)) === 'gone', { timeoutMs: 3000, what: `orphan ${pid} to be reaped` });
    } else {
      assert.match(namespace.output, /\[WARNING\] Running as PID 1: .* cannot be reaped .*corral-init/);
      // Node waits only for its own children: the orphan ends as a zombie of PID 1, and nothing else happens.
      for (const pid of orphans) await waitUntil(async () => (await stateOf(url, pid)) === 'Z', { timeoutMs: 3000, what: `orphan ${pid} to exit` });
    }
    assert.is((await request(url)).status, 200);
    assertNoWorkerTrouble(namespace);
    await termDrainsAndExitsZero(namespace);
  } finally {
    await namespace.end();
  }
});

test('corral-init passes on the signals corral acts on and exits with its status', async () => {
  if (skipReason) return console.log(`  skipped: ${skipReason}`);
  // A stand-in command that reports the signals it gets and exits 7 on TERM.
  const script = `for s in HUP USR1 TTIN; do trap "echo got $s" $s; done; trap 'echo got TERM; exit 7' TERM; echo started; while :; do sleep 0.05; done`;
  const namespace = new Namespace(['sh', INIT, 'sh', '-c', script]);
  try {
    await namespace.line(/^started$/);
    for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGTTIN'] as const) {
      process.kill(namespace.initPid(), signal);
      await namespace.line(new RegExp(`^got ${signal.slice(3)}$`));
    }
    process.kill(namespace.initPid(), 'SIGTERM');
    assert.is(await namespace.exited, 7, namespace.output);
  } finally {
    await namespace.end();
  }
});

test.run();
