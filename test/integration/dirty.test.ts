// The dirty pool (--dirty-app) through the real CLI: a module loaded once and
// called from the workers with dirty.execute()/dirty.stream(); what a slow, hung,
// crashing or oversized call costs; the bounded queue; scale and rolling reload.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, isAlive, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { launchBrowser, waitFor } from '../helpers/browser.js';
import { startLoad } from '../helpers/load.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-dirty-'));
const runtime = join(tmp, 'run');
const APP = 'examples/dirty/app.js';
const MODEL = 'examples/dirty/model.js';
/** Small enough to boot in a moment, large enough to see in RSS. */
const env = { XDG_RUNTIME_DIR: runtime, DIRTY_EXAMPLE_ENTRIES: '150000' };

const get = async (url: string, path: string) => {
  const response = await request(url, { path, timeoutMs: 20_000 });
  return { status: response.status, body: JSON.parse(response.body) as Record<string, any> };
};

const dirtyReady = (corral: ReturnType<typeof startCorral>, from = 0) => corral.waitForLine(/\[INFO\] Dirty pool ready: \d+ process/, { from, timeoutMs: 20_000 });

/** Resident memory of a process, from the kernel. */
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

function ctl(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, 'ctl', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('setup() runs once per dirty process: the index is held there once, not in each of 3 workers, and answers queries', async () => {
  await withCorral(['-w', '3', '-b', '127.0.0.1:0', '--dirty-app', MODEL, APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => get(url, `/lookup?key=key-${i * 1000}`)));
    answers.forEach(({ status, body }, i) => {
      assert.is(status, 200);
      assert.is(body.value, `value-${i * 1000}-${'x'.repeat(80)}`);
      assert.is(body.size, 150000);
    });
    const [dirtyPid] = corral.dirtyPids();
    assert.is(corral.dirtyPids().length, 1, 'one dirty process, booted once');
    assert.is((await get(url, '/info')).body.dirty.pid, dirtyPid);
    const dirtyRss = rssOf(dirtyPid);
    for (const pid of corral.workerPids()) {
      // The index (tens of MB) lives in the dirty process only.
      assert.ok(rssOf(pid) + 25 * 2 ** 20 < dirtyRss, `worker ${pid} holds ${rssOf(pid)} bytes, the dirty process ${dirtyRss}`);
    }
  }, { env });
});

test('a dirty call that blocks does not hold up other requests on the calling worker', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', MODEL, APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    let blockDone = false;
    // Long enough that a machine under load cannot make the check below pass by chance.
    const blocked = get(url, '/block?ms=1500').then((answer) => ((blockDone = true), answer));
    await waitUntil(() => /RUNNING[\s\S]*\bblock\b/.test(ctl(['status']).stdout), { timeoutMs: 10_000, what: 'the dirty process to run block()' });
    for (let i = 0; i < 5; i += 1) {
      const fast = await get(url, '/fast');
      assert.is(fast.status, 200);
      assert.not.ok(blockDone, 'the fast request was answered while the blocking call ran');
    }
    assert.equal((await blocked).body, { blockedMs: 1500, spins: true });
  }, { env });
});

test('results (from the sync kind): structured data and binary round-trip as msgpack; a stream yields chunks; a throw and an unknown name are coded errors', async () => {
  await withCorral(['-k', 'sync', '-w', '1', '-b', '127.0.0.1:0', '--dirty-app', MODEL, APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    assert.equal((await get(url, '/echo')).body, { text: 'hé', list: [1, 2.5, null, true], bytes: Buffer.from('bin').toString('base64') });
    assert.is((await request(url, { path: '/stream?to=5' })).body, '1\n2\n3\n4\n5\n');
    const failed = await get(url, '/fail?message=bad%20input');
    assert.is(failed.status, 500);
    assert.is(failed.body.code, 'CORRAL_ERR_DIRTY_FAILED');
    assert.match(failed.body.message, /'fail' threw: bad input/);
    const missing = await get(url, '/missing');
    assert.is(missing.body.code, 'CORRAL_ERR_DIRTY_NO_FUNCTION');
    assert.match(missing.body.message, /no function 'noSuchFunction' \(it has: .*lookup/);
    // A throw costs the call, not the process.
    assert.is(corral.dirtyPids().length, 1);
  }, { env });
});

test('a stream runs only a few chunks ahead of a slow reader (back-pressure), then finishes', async () => {
  const dir = mkdtempSync(join(tmp, 'stream-'));
  const progress = join(dir, 'progress');
  writeFileSync(join(dir, 'model.mjs'), `import { writeFileSync } from 'node:fs';
export async function* produce(total, file) { for (let n = 1; n <= total; n++) { writeFileSync(file, String(n)); yield new Uint8Array(1000).fill(n % 256); } }
let closed = false;
export async function* endless() { closed = false; try { for (let n = 1; ; n++) yield n; } finally { closed = true; } }
export function wasClosed() { return closed; }
export const ping = () => 'done';
`);
  writeFileSync(join(dir, 'app.mjs'), `import { readFileSync } from 'node:fs';
import { dirty } from '${join(REPO_ROOT, 'dist/src/index.js')}';
export default async (req, res) => {
  if (req.url === '/stop-early') {
    let first;
    for await (const n of dirty.stream('endless')) { first = n; break; }
    const next = await dirty.execute('ping');
    return res.end(JSON.stringify({ first, next, closed: await dirty.execute('wasClosed') }));
  }
  if (req.url === '/die-mid-stream') {
    // The worker dies while it reads: its connection to the router closes with the stream open.
    for await (const n of dirty.stream('endless')) process.kill(process.pid, 'SIGKILL');
  }
  const stream = dirty.with({ timeout: 0 }).stream('produce', 200, ${JSON.stringify(progress)});
  await stream.next();
  // A reader that stalls: the generator must not run on to the end meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 700));
  const producedWhileStalled = Number(readFileSync(${JSON.stringify(progress)}, 'utf8'));
  let rest = 0;
  for await (const chunk of stream) rest += chunk.length > 0 ? 1 : 0;
  res.end(JSON.stringify({ producedWhileStalled, rest }));
};
`);
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', join(dir, 'model.mjs'), '--dirty-timeout', '0', join(dir, 'app.mjs')], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    const { body } = await get(url, '/');
    assert.ok(body.producedWhileStalled <= 12, `the generator ran ${body.producedWhileStalled} chunks ahead of a reader that took 1`);
    assert.is(body.rest, 199);
    // A reader that stops after one chunk frees the (only) dirty process: the next call is answered, with no deadline to force it.
    const stopped = await get(url, '/stop-early');
    assert.equal(stopped.body, { first: 1, next: 'done', closed: true });
    // A worker that dies mid-stream frees it too.
    const from = corral.lines.length;
    await request(url, { path: '/die-mid-stream' }).catch(() => undefined);
    await corral.waitForLine(/Worker \(pid:\d+\) was sent SIGKILL/, { from });
    await corral.waitForLine(/Booting worker with pid/, { from });
    assert.equal((await get(url, '/stop-early')).body, { first: 1, next: 'done', closed: true });
  }, { env });
});

test('over --dirty-max-message: arguments are refused before they leave, a result is refused in the dirty process, which stays', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', MODEL, '--dirty-max-message', '4K', APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    const args = await get(url, '/big-args?bytes=10000');
    assert.is(args.body.code, 'CORRAL_ERR_DIRTY_TOO_LARGE');
    assert.match(args.body.message, /arguments of dirty call 'echo' are \d+ bytes as msgpack, over --dirty-max-message \(4096 bytes\)/);
    const result = await get(url, '/blob?bytes=10000');
    assert.is(result.body.code, 'CORRAL_ERR_DIRTY_TOO_LARGE');
    assert.match(result.body.message, /the result of 'blob' is \d+ bytes/);
    assert.equal((await get(url, '/blob?bytes=100')).body, { length: 100 });
    assert.is(corral.dirtyPids().length, 1);
  }, { env });
});

test('a call past --dirty-timeout (or its own timeout) rejects with CORRAL_ERR_DIRTY_TIMEOUT and its process is replaced', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', MODEL, '--dirty-timeout', '1', APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    const [first] = corral.dirtyPids();
    const late = await get(url, '/sleep?ms=60000');
    assert.is(late.status, 500);
    assert.is(late.body.code, 'CORRAL_ERR_DIRTY_TIMEOUT');
    assert.match(late.body.message, new RegExp(`'sleep' was not answered within 1000 ms; the dirty process running it \\(pid ${first}\\) was replaced`));
    await corral.waitForLine(/\[ERROR\] DIRTY CALL TIMEOUT: 'sleep' ran past 1000 ms/);
    await waitUntil(() => !isAlive(first), { what: 'the timed-out dirty process to be gone' });
    // timeout=0: this call waits as long as the replacement takes to boot.
    assert.equal((await get(url, '/sleep?ms=10&timeout=0')).body, { slept: 10 });
    // A per-call timeout, shorter than the server's.
    const second = corral.dirtyPids()[1];
    const own = await get(url, '/sleep?ms=60000&timeout=0.3');
    assert.is(own.body.code, 'CORRAL_ERR_DIRTY_TIMEOUT');
    assert.match(own.body.message, /within 300 ms/);
    await waitUntil(() => !isAlive(second), { what: 'the second dirty process to be gone' });
    assert.equal((await get(url, '/sleep?ms=10&timeout=0')).body, { slept: 10 });
    assert.is(corral.dirtyPids().length, 3);
    // A deadline longer than a timer can hold (or Infinity) is no limit, not one of 1 ms.
    assert.equal((await get(url, '/sleep?ms=300&timeout=3000000')).body, { slept: 300 });
    assert.equal((await get(url, '/sleep?ms=300&timeout=Infinity')).body, { slept: 300 });
    assert.is(corral.dirtyPids().length, 3, 'no process was replaced for them');
  }, { env });
});

test('corral ctl events reports the dirty pool: its state, each process, one killed and its replacement', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', MODEL, '--dirty-workers', '2', APP], async (corral) => {
    await corral.ready(20_000);
    await dirtyReady(corral);
    const follower = spawn(process.execPath, [CLI, 'ctl', 'events', '--follow', '--json'], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let seen = '';
    follower.stdout.on('data', (chunk) => (seen += chunk));
    try {
      const events = () => seen.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
      const serving = (pid: number) => events().some((e) => e.type === 'dirty-process' && e.pid === pid && /^serving/.test(e.state));
      await waitUntil(() => corral.dirtyPids().every(serving), { what: 'both dirty processes reported serving' });
      assert.ok(events().some((e) => e.type === 'dirty' && typeof e.state === 'string' && e.state.length > 0), 'the pool\'s state is reported');
      const [victim] = corral.dirtyPids();
      const victimId = events().find((e) => e.type === 'dirty-process' && e.pid === victim)!.id;
      process.kill(victim, 'SIGKILL');
      await waitUntil(() => events().some((e) => e.type === 'dirty-process' && e.id === victimId && e.state === 'gone'), { what: 'the killed process reported gone' });
      await waitUntil(() => corral.dirtyPids().length === 3, { what: 'a replacement' });
      await waitUntil(() => serving(corral.dirtyPids()[2]), { what: 'the replacement reported serving' });
    } finally {
      follower.kill();
    }
    const once = ctl(['events']);
    assert.is(once.status, 0, once.stderr);
    assert.match(once.stdout, /dirty pool \S+/);
    assert.match(once.stdout, /dirty process \S+ \(pid \d+\) serving/);
  }, { env });
});

test('a dirty process that dies mid-call: the call rejects with CORRAL_ERR_DIRTY_CRASHED, a new one is started, calls go on', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--dirty-app', MODEL, APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    const [first] = corral.dirtyPids();
    const crashed = await get(url, '/crash');
    assert.is(crashed.body.code, 'CORRAL_ERR_DIRTY_CRASHED');
    assert.match(crashed.body.message, new RegExp(`running 'crash' \\(pid ${first}\\) exited with code 70; it is being replaced`));
    await corral.waitForLine(/\[ERROR\] Dirty process \(pid:\d+\) exited with code 70 during a call/);
    // Killed from outside, while idle: replaced too.
    await waitUntil(() => corral.dirtyPids().length === 2, { what: 'a replacement' });
    const second = corral.dirtyPids()[1];
    assert.is((await get(url, '/info')).body.dirty.pid, second);
    process.kill(second, 'SIGKILL');
    await corral.waitForLine(/\[ERROR\] Dirty process \(pid:\d+\) was terminated by SIGKILL/);
    assert.is((await get(url, '/lookup?key=key-9')).status, 200);
    assert.is(corral.dirtyPids().length, 3);
    assert.ok(isAlive(corral.pid));
  }, { env });
});

test('the queue is bounded: past --dirty-queue a call rejects at once with CORRAL_ERR_DIRTY_QUEUE_FULL', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--dirty-app', MODEL, '--dirty-queue', '2', APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    // One runs, two wait, the other three are refused: whatever order they arrive in.
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(url, '/sleep?ms=1500')));
    const ok = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.body.code === 'CORRAL_ERR_DIRTY_QUEUE_FULL');
    assert.is(ok.length, 3, JSON.stringify(answers));
    assert.is(refused.length, 3, JSON.stringify(answers));
    assert.match(refused[0].body.message, /2 dirty calls are already waiting \(--dirty-queue 2\)/);
  }, { env });
});

test('the queue is bounded in bytes too: past --dirty-queue-bytes of waiting arguments a call rejects at once with CORRAL_ERR_DIRTY_QUEUE_FULL', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', MODEL, '--dirty-workers', '1', '--dirty-queue-bytes', '300K', APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    // The one dirty process is busy, so what follows waits in the queue: three calls of 100,000 bytes fit in 300K, five do not.
    const blocked = get(url, '/block?ms=3000');
    await waitUntil(() => /RUNNING[\s\S]*\bblock\b/.test(ctl(['status']).stdout), { timeoutMs: 10_000, what: 'the dirty process to run block()' });
    const answers = await Promise.all(Array.from({ length: 5 }, () => get(url, '/big-args?bytes=100000')));
    const refused = answers.filter((answer) => answer.body.code === 'CORRAL_ERR_DIRTY_QUEUE_FULL');
    assert.is(answers.filter((answer) => answer.status === 200).length, 3, JSON.stringify(answers));
    assert.is(refused.length, 2, JSON.stringify(answers));
    assert.match(refused[0].body.message, /the 3 dirty calls already waiting hold \d+ bytes of arguments; this one's \d+ would pass --dirty-queue-bytes \(307200 bytes\)/);
    assert.is((await blocked).status, 200);
    // The queue's bytes were given back as it emptied: the same burst fits again.
    const again = await Promise.all(Array.from({ length: 3 }, () => get(url, '/big-args?bytes=100000')));
    assert.ok(again.every((answer) => answer.status === 200), JSON.stringify(again));
  }, { env });
});

test('metrics: calls, failures, timeouts per function, a duration histogram, the queue length', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--dirty-app', MODEL, APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    const { match } = await corral.waitForLine(/Serving metrics at: (http:\/\/\S+)\/metrics/);
    for (let i = 0; i < 3; i += 1) assert.is((await get(url, `/lookup?key=key-${i}`)).status, 200);
    assert.is((await get(url, '/fail')).body.code, 'CORRAL_ERR_DIRTY_FAILED');
    assert.is((await get(url, '/sleep?ms=60000&timeout=0.2')).body.code, 'CORRAL_ERR_DIRTY_TIMEOUT');
    const text = (await request(match[1], { path: '/metrics' })).body;
    assert.match(text, /^corral_dirty_calls_total\{function="lookup"\} 3$/m);
    assert.match(text, /^corral_dirty_failures_total\{function="fail"\} 1$/m);
    assert.match(text, /^corral_dirty_failures_total\{function="sleep"\} 1$/m);
    assert.match(text, /^corral_dirty_timeouts_total\{function="sleep"\} 1$/m);
    assert.match(text, /^corral_dirty_call_duration_seconds_bucket\{le="\+Inf",function="lookup"\} 3$/m);
    assert.match(text, /^corral_dirty_call_duration_seconds_count\{function="lookup"\} 3$/m);
    assert.match(text, /^corral_dirty_queue_length 0$/m);
    assert.match(text, /^# TYPE corral_dirty_call_duration_seconds histogram$/m);
  }, { env });
});

test('the inspector shows the dirty pool: its chart lit, each process and the function it runs', async () => {
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--inspector', '0', '--dirty-app', MODEL, '--dirty-workers', '2', APP], async (corral) => {
      const [url] = await corral.ready(20_000);
      await dirtyReady(corral);
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(match[1]);
      const rows = () => page.$$eval('#dirty-processes tbody tr:not([data-gone])', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      const idle = await waitFor('two idle dirty processes', rows, (found) => found.length === 2 && found.every((cells) => cells[1] === 'serving.idle'));
      assert.equal(idle.map((cells) => Number(cells[2])).sort(), corral.dirtyPids().sort());
      assert.ok(await page.$('#dirty-chart .state.active[data-path="serving.steady"]'), 'the dirty pool chart lights serving.steady');
      const blocked = get(url, '/block?ms=3000');
      await waitFor('a dirty process running block', rows, (found) => found.some((cells) => cells[1] === 'serving.busy' && cells[3] === 'block'));
      await blocked;
      assert.equal(errors, []);
    }, { env });
  } finally {
    await browser.close();
  }
});

if (process.getuid?.() === 0) {
  test('as root with --user nobody: the dirty processes run as nobody too, and the workers (as nobody) reach the router', async () => {
    await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-u', 'nobody', '-g', 'nogroup', '--dirty-app', MODEL, APP], async (corral) => {
      const [url] = await corral.ready(20_000);
      await dirtyReady(corral);
      assert.is((await get(url, '/lookup?key=key-2')).status, 200);
      const uid = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      for (const pid of [...corral.dirtyPids(), ...corral.workerPids()]) assert.is(uid(pid), 65534, `${pid} runs as nobody`);
    }, { env });
  });
}

test('without --dirty-app a dirty call rejects with CORRAL_ERR_DIRTY_UNAVAILABLE, saying what to do', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    const answer = await get(url, '/lookup');
    assert.is(answer.body.code, 'CORRAL_ERR_DIRTY_UNAVAILABLE');
    assert.match(answer.body.message, /start corral with --dirty-app MODULE/);
  }, { env });
});

test("garbage on the router's socket closes that connection only: the arbiter and other calls carry on", async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', MODEL, APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    const { match } = await corral.waitForLine(/called through (\S+)$/);
    for (const bytes of [Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0, 0, 0, 1, 0x2a])]) {
      const socket = net.connect(match[1]);
      socket.on('error', () => {});
      socket.write(bytes);
      await new Promise((resolve) => socket.once('close', resolve));
    }
    assert.ok(isAlive(corral.pid));
    assert.is((await get(url, '/lookup?key=key-4')).status, 200);
  }, { env });
});

test('a dirty module whose setup() throws stops corral with exit 4 and says why', async () => {
  const broken = join(tmp, 'broken-model.mjs');
  writeFileSync(broken, "export function setup() { throw new Error('model file missing'); }\nexport const f = () => 1;\n");
  const corral = startCorral(['-b', '127.0.0.1:0', '--dirty-app', broken, APP], { env });
  try {
    const exit = await corral.waitForExit(20_000);
    assert.is(exit.code, 4, corral.output);
    assert.match(corral.output, /a dirty process could not boot \(--dirty-app\): --dirty-app '.*broken-model\.mjs': model file missing/);
  } finally {
    await corral.stop();
  }
});

test('corral ctl status shows the dirty pool; dirty-scale sizes it; calls from the thread kind work too', async () => {
  await withCorral(['-w', '1', '-k', 'thread', '--threads', '2', '-b', '127.0.0.1:0', '--name', 'dirtyctl', '--dirty-app', MODEL, APP], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    assert.is((await get(url, '/lookup?key=key-1')).status, 200);
    const status = ctl(['status', '--name', 'dirtyctl']);
    assert.is(status.status, 0, status.stderr);
    assert.match(status.stdout, /dirty pool \[examples\/dirty\/model\.js\]: serving\.steady, generation 1, 1 process\(es\) wanted, 0 call\(s\) waiting/);
    assert.match(status.stdout, /FUNCTION\s+CALLS\s+FAILED\s+TIMED OUT\s+MEAN MS\nlookup\s+1\s+0\s+0\s/);
    const scaled = ctl(['dirty-scale', '3', '--name', 'dirtyctl']);
    assert.match(scaled.stdout, /Scaling the dirty pool from 1 to 3 process\(es\)/);
    await waitUntil(() => JSON.parse(ctl(['status', '--name', 'dirtyctl', '--json']).stdout).dirty.processes.filter((p: { ready: boolean }) => p.ready).length === 3, {
      timeoutMs: 20_000,
      what: 'three ready dirty processes',
    });
    assert.match(ctl(['dirty-scale', '-2', '--name', 'dirtyctl']).stdout, /from 3 to 1/);
    await waitUntil(() => corral.dirtyPids().filter(isAlive).length === 1, { timeoutMs: 10_000, what: 'two dirty processes to drain' });
    const refused = ctl(['dirty-scale', '0', '--name', 'dirtyctl']);
    assert.is(refused.status, 1);
    assert.match(refused.stderr, /at least 1 process/);
  }, { env });
});

test('HUP reloads the dirty pool rolling: new code answers, old processes leave, no call fails', async () => {
  const dir = mkdtempSync(join(tmp, 'reload-'));
  const model = join(dir, 'model.mjs');
  const writeModel = (version: string) =>
    writeFileSync(model, `export async function version() { await new Promise((r) => setTimeout(r, 5)); return '${version}'; }\n`);
  const app = join(dir, 'app.mjs');
  writeFileSync(app, `import { dirty } from '${join(REPO_ROOT, 'dist/src/index.js')}';\nexport default async (req, res) => { try { res.end(await dirty.execute('version')); } catch (e) { res.statusCode = 500; res.end(e.code); } };\n`);
  writeModel('v1');
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--dirty-app', model, '--dirty-workers', '2', app], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    const old = corral.dirtyPids();
    const load = startLoad(url, { clients: 6 });
    await waitUntil(() => load.result.ok > 100, { what: 'load to be flowing', timeoutMs: 10_000 });
    writeModel('v2');
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    await corral.waitForLine(/\[INFO\] Dirty pool reloaded: generation 2 serving/, { from, timeoutMs: 20_000 });
    await waitUntil(() => old.every((pid) => !isAlive(pid)), { timeoutMs: 10_000, what: 'old dirty processes to exit' });
    const seen = load.result.bodies.get('v2') ?? 0;
    await waitUntil(() => (load.result.bodies.get('v2') ?? 0) > seen + 50, { what: 'more v2 answers', timeoutMs: 10_000 });
    const result = await load.stop();
    assert.equal(result.failures, [], `${result.failures.length} of ${result.sent} failed: ${[...result.bodies.keys()].join(', ')}`);
    assert.ok((result.bodies.get('v1') ?? 0) > 0 && (result.bodies.get('v2') ?? 0) > 0);
    assert.is(corral.dirtyPids().filter(isAlive).length, 2);
  }, { env });
});

test('HUP says what of the dirty pool takes a restart: starting or stopping the pool, its message cap', async () => {
  const dir = mkdtempSync(join(tmp, 'restart-only-'));
  const config = join(dir, 'corral.config.mjs');
  const writeConfig = (settings: object) => writeFileSync(config, `export default ${JSON.stringify(settings)};\n`);
  const model = join(REPO_ROOT, MODEL);
  writeConfig({ dirtyApp: model });
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-c', config, join(REPO_ROOT, APP)], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    writeConfig({ dirtyMaxMessage: '1M' });
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    await corral.waitForLine(new RegExp(`\\[WARNING\\] Reload keeps the dirty pool of ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; turning it off takes a restart\\.`), { from, timeoutMs: 15_000 });
    await corral.waitForLine(/\[WARNING\] Reload keeps --dirty-max-message 16M; a change \(1M\) takes a restart\./, { from });
    await corral.waitForLine(/\[INFO\] Dirty pool reloaded: generation 2 serving/, { from, timeoutMs: 20_000 });
    assert.is((await get(url, '/lookup?key=key-1')).status, 200, 'the pool still answers');
  }, { env, cwd: dir });
  writeConfig({});
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-c', config, join(REPO_ROOT, APP)], async (corral) => {
    await corral.ready(20_000);
    writeConfig({ dirtyApp: model });
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    await corral.waitForLine(/\[WARNING\] Reload does not start a dirty pool; --dirty-app \S+ takes a restart\./, { from, timeoutMs: 15_000 });
  }, { env, cwd: dir });
});

test('a dirty module that dies right after booting is respawned after a growing back-off; the workers serve on', async () => {
  const dir = mkdtempSync(join(tmp, 'crash-loop-'));
  const model = join(dir, 'model.mjs');
  writeFileSync(model, 'export function setup() { setTimeout(() => process.exit(3), 100); }\nexport const f = () => 1;\n');
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', model, 'examples/test.js'], async (corral) => {
    const [url] = await corral.ready(20_000);
    await corral.waitForLine(/\[ERROR\] Dirty processes keep dying right after booting \(2 in a row\); next start in 1 s/, { timeoutMs: 15_000 });
    await corral.waitForLine(/\[ERROR\] Dirty processes keep dying right after booting \(3 in a row\); next start in 2 s/, { timeoutMs: 15_000 });
    assert.ok(corral.dirtyPids().length <= 4, `${corral.dirtyPids().length} dirty processes started`);
    assert.is((await request(url)).status, 200);
  }, { env });
});

test("node's flags given to corral reach the dirty processes too, except the inspector's", async () => {
  const dir = mkdtempSync(join(tmp, 'flags-'));
  writeFileSync(join(dir, 'model.mjs'), 'export const flags = () => process.execArgv;\n');
  writeFileSync(join(dir, 'app.mjs'), `import { dirty } from '${join(REPO_ROOT, 'dist/src/index.js')}';\nexport default async (req, res) => res.end(JSON.stringify(await dirty.execute('flags')));\n`);
  const launcher = ([node, ...rest]: string[]): [string, string[]] => [node, ['--max-old-space-size=300', '--inspect=127.0.0.1:0', ...rest]];
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--dirty-app', join(dir, 'model.mjs'), join(dir, 'app.mjs')], async (corral) => {
    const [url] = await corral.ready(20_000);
    await dirtyReady(corral);
    assert.equal(JSON.parse((await request(url, { timeoutMs: 20_000 })).body), ['--max-old-space-size=300']);
  }, { env, launcher });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
