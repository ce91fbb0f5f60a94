// `corral ctl` against real servers through their control sockets: finding the
// server, every command, the events stream, and hostile bytes on the socket.
// XDG_RUNTIME_DIR points at a directory of this file's own, so the servers of
// other tests running meanwhile are not seen.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameDecoder, encodeFrame } from '../../src/ipc/frame-codec.js';
import { CLI, REPO_ROOT, isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-ctl-'));
const runtime = join(tmp, 'run');
const env = { XDG_RUNTIME_DIR: runtime };
const app = join(REPO_ROOT, 'examples/test.js');

function ctl(args: string[], cwd = REPO_ROOT) {
  const result = spawnSync(process.execPath, [CLI, 'ctl', ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const json = (args: string[]) => {
  const result = ctl([...args, '--json']);
  assert.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, any>;
};

const socketsIn = () => (existsSync(join(runtime, 'corral')) ? readdirSync(join(runtime, 'corral')) : []);

test('two servers get sockets of their own (0600); ctl picks one by name or pid, and asks when unsure', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-n', 'alpha', app], async (alpha) => {
    await alpha.ready();
    await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-n', 'beta', app], async (beta) => {
      await beta.ready();
      assert.equal(socketsIn().sort(), [`alpha.${alpha.pid}.sock`, `beta.${beta.pid}.sock`]);
      const path = join(runtime, 'corral', `alpha.${alpha.pid}.sock`);
      assert.is(statSync(path).mode & 0o777, 0o600);
      assert.is(statSync(join(runtime, 'corral')).mode & 0o777, 0o700);

      assert.is(json(['status', '--name', 'beta']).arbiter.pid, beta.pid);
      assert.is(json(['status', '--pid', String(alpha.pid)]).arbiter.name, 'alpha');
      assert.is(json(['status', '--socket', path]).arbiter.pid, alpha.pid);
      const unsure = ctl(['status']);
      assert.is(unsure.status, 2);
      assert.match(unsure.stderr, new RegExp(`Several corral servers match this user: .*alpha \\(pid ${alpha.pid}\\).*beta \\(pid ${beta.pid}\\)`));

      // From the working directory's config file, and from a pidfile.
      const project = join(tmp, 'project');
      rmSync(project, { recursive: true, force: true });
      spawnSync('mkdir', ['-p', project]);
      writeFileSync(join(project, 'corral.config.json'), JSON.stringify({ procName: 'beta' }));
      const fromConfig = ctl(['status', '--json'], project);
      assert.is(JSON.parse(fromConfig.stdout).arbiter.pid, beta.pid, fromConfig.stderr);
      writeFileSync(join(tmp, 'alpha.pid'), `${alpha.pid}\n`);
      assert.is(json(['status', '--pid', join(tmp, 'alpha.pid')]).arbiter.name, 'alpha');
    }, { env });
  }, { env });
  assert.equal(socketsIn(), [], 'each server removes its socket as it stops');
});

test('status, scale N/+1/-1, reload, reopen-logs, stop: each acts, and says so in the log', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-n', 'ops', app], async (corral) => {
    const [url] = await corral.ready();
    await request(url);
    const status = json(['status', '--name', 'ops']);
    assert.is(status.arbiter.state, 'serving.steady');
    assert.is(status.arbiter.kind, 'async');
    assert.equal(status.arbiter.listeners, [url]);
    assert.equal(status.workers.map((w: { pid: number }) => w.pid).sort(), corral.workerPids().sort());
    for (const worker of status.workers) assert.match(worker.state, /^serving/);
    const text = ctl(['status', '--name', 'ops']);
    assert.match(text.stdout, new RegExp(`^corral master \\[ops\\] pid ${corral.pid}: serving\\.steady, up \\d+s, generation 1, 2 worker\\(s\\) wanted`));
    assert.match(text.stdout, /PID\s+KIND\s+STATE\s+AGE\s+SERVED\s+IN FLIGHT\s+LAG MS\s+RSS MB\s+CPU S\s+%CPU/);
    // CPU: the arbiter's own, and each worker's as its heartbeat carries it.
    assert.ok(status.arbiter.cpuSeconds > 0, JSON.stringify(status.arbiter));
    assert.match(text.stdout, /wanted, cpu \d+\.\ds \(\d+\.\d%\)\n/);
    await waitUntil(() => json(['status', '--name', 'ops']).workers.every((w: { cpuSeconds: number | null }) => w.cpuSeconds !== null && w.cpuSeconds > 0), { what: 'CPU time from every worker' });
    assert.match(ctl(['status', '--name', 'ops']).stdout, /\n\d+\s+async\s+serving\.live\s+\S+\s+\d+\s+\d+\s+[\d.]+\s+[\d.]+\s+\d+\.\d\s+\d+\.\d\n/);

    assert.match(ctl(['scale', '3', '--name', 'ops']).stdout, /Scaling from 2 to 3 worker\(s\)/);
    await waitUntil(() => json(['status', '--name', 'ops']).workers.filter((w: { ready: boolean }) => w.ready).length === 3, { what: 'a third worker' });
    assert.match(ctl(['scale', '+1', '--name', 'ops']).stdout, /from 3 to 4/);
    assert.match(ctl(['scale', '-2', '--name', 'ops']).stdout, /from 4 to 2/);
    await waitUntil(() => corral.liveWorkerPids().length === 2, { what: 'two workers drained' });
    // Below one worker every request would wait: refused, said, and nothing changes.
    for (const wanted of ['0', '-5']) {
      const refused = ctl(['scale', wanted, '--name', 'ops']);
      assert.is.not(refused.status, 0, `scale ${wanted} is refused`);
      assert.match(refused.stderr, /workers must be a whole number ≥ 1/);
    }
    assert.is(json(['status', '--name', 'ops']).arbiter.workers, 2);
    await request(url);

    const reload = ctl(['reload', '--name', 'ops']);
    assert.is(reload.stdout, 'Reload complete: generation 2 serving\n', reload.stderr);
    await waitUntil(() => {
      const { workers } = json(['status', '--name', 'ops']);
      return workers.length === 2 && workers.every((w: { generation: number; ready: boolean }) => w.generation === 2 && w.ready);
    }, { what: 'two workers of the new generation, and no old one' });
    await corral.waitForLine(/\[INFO\] Handling hup from corral ctl/);

    assert.is(ctl(['reopen-logs', '--name', 'ops']).status, 0);
    await corral.waitForLine(/\[INFO\] Handling usr1 from corral ctl/);

    assert.is(ctl(['stop', '--name', 'ops']).stdout, 'Stopping\n');
    assert.equal(await corral.waitForExit(), { code: 0, signal: null });
    await corral.waitForLine(/\[INFO\] Handling term from corral ctl/);
  }, { env });
});

test('events --follow: every change of state, a kill -9 and its replacement', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-n', 'watch', app], async (corral) => {
    await corral.ready();
    const follower = spawn(process.execPath, [CLI, 'ctl', 'events', '--follow', '--json', '--name', 'watch'], { env: { ...process.env, ...env } });
    let seen = '';
    follower.stdout.on('data', (chunk) => (seen += chunk));
    try {
      const events = () => seen.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
      await waitUntil(() => events().filter((e) => e.type === 'worker').length === 2, { what: 'the current picture' });
      assert.equal(events()[0].type, 'arbiter');
      // Another client's picture goes to that client alone: this one hears nothing of it.
      assert.is(ctl(['events', '--name', 'watch']).status, 0);
      const [victim] = corral.workerPids();
      process.kill(victim, 'SIGKILL');
      await waitUntil(() => events().some((e) => e.type === 'exit' && e.pid === victim), { what: 'the exit event' });
      const beforeExit = events().slice(0, events().findIndex((e) => e.type === 'exit'));
      assert.is(beforeExit.filter((e) => e.type === 'arbiter').length, 1, `the picture was sent again: ${JSON.stringify(beforeExit)}`);
      const exit = events().find((e) => e.type === 'exit')!;
      assert.is(exit.signal, 'SIGKILL');
      await waitUntil(() => corral.workerPids().length === 3, { what: 'a replacement' });
      const replacement = corral.workerPids()[2];
      await waitUntil(() => events().some((e) => e.type === 'worker' && e.pid === replacement && /^serving/.test(e.state)), { what: 'the replacement serving' });
    } finally {
      follower.kill();
    }
    const once = ctl(['events', '--name', 'watch']);
    assert.is(once.status, 0);
    assert.match(once.stdout, /arbiter serving\.steady\n.*worker worker-\d+ \(pid \d+\) serving/);
  }, { env });
});

test('upgrade: a new arbiter on the same sockets, with a control socket of its own', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-n', 'up', app], async (corral) => {
    const [url] = await corral.ready();
    assert.match(ctl(['upgrade', '--pid', String(corral.pid)]).stdout, /Upgrade started/);
    await corral.waitForLine(/Inherited 1 socket\(s\) from arbiter/);
    const successor = corral.arbiterPids().find((pid) => pid !== corral.pid)!;
    await corral.waitForLine(new RegExp(`\\[${successor}\\] \\[INFO\\] Ready: 1 worker`));
    assert.match(ctl(['status', '--name', 'up']).stderr, /Several corral servers match name 'up'/);
    assert.is(json(['status', '--pid', String(successor)]).arbiter.pid, successor);
    assert.is(ctl(['stop', '--pid', String(corral.pid)]).status, 0);
    assert.equal(await corral.processExited, { code: 0, signal: null });
    assert.is((await request(url)).status, 200, 'the new arbiter serves');
    assert.is(ctl(['stop', '--pid', String(successor)]).status, 0);
    await waitUntil(() => !isAlive(successor), { what: 'the new arbiter to stop' });
  }, { env });
});

/** Sends raw bytes on a control socket and returns the decoded reply frames. */
function raw(path: string, bytes: Buffer): Promise<Record<string, any>[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path, () => socket.write(bytes));
    const decoder = new FrameDecoder();
    const replies: Record<string, any>[] = [];
    socket.on('data', (chunk) => replies.push(...(decoder.push(chunk).messages as Record<string, any>[])));
    socket.on('close', () => resolve(replies));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no reply')));
  });
}

test('garbage, an oversized frame or a bad request on the control socket: an error reply, and the server carries on', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-n', 'tough', app], async (corral) => {
    const [url] = await corral.ready();
    const path = join(runtime, 'corral', `tough.${corral.pid}.sock`);
    const garbage = await raw(path, Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from([0xc1, 0xc1, 0xc1, 0xc1, 0xc1])]));
    assert.is(garbage[0].error.code, 'CORRAL_ERR_IPC_BAD_FRAME');
    const huge = await raw(path, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    assert.is(huge[0].error.code, 'CORRAL_ERR_IPC_FRAME_TOO_LARGE');
    const unknown = await raw(path, encodeFrame({ v: 1, command: 'explode' }));
    assert.match(unknown[0].error.message, /unknown command "explode"/);
    const version = await raw(path, encodeFrame({ v: 99, command: 'status' }));
    assert.match(version[0].error.message, /protocol version 99/);
    const noScale = await raw(path, encodeFrame({ v: 1, command: 'scale', workers: 'lots' }));
    assert.match(noScale[0].error.message, /scale takes N, \+N or -N/);
    assert.is((await request(url)).status, 200);
    assert.is(json(['status', '--name', 'tough']).arbiter.state, 'serving.steady');
    assert.equal(corral.workerPids().length, 1, 'no worker was disturbed');
  }, { env });
});

test('--no-control-socket opens none, and ctl says it finds no server; bad usage exits 2', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-n', 'quiet', '--no-control-socket', app], async (corral) => {
    await corral.ready();
    assert.not.ok(socketsIn().some((file) => file.startsWith('quiet.')));
    const missing = ctl(['status', '--name', 'quiet']);
    assert.is(missing.status, 2);
    assert.match(missing.stderr, /No running corral found for name 'quiet'/);
  }, { env });
  assert.is(ctl(['frobnicate']).status, 2);
  assert.match(ctl(['scale', 'many']).stderr, /scale takes N, \+N or -N/);
});

test('--control-socket PATH and --control-socket-mode', async () => {
  const path = join(tmp, 'custom.ctl');
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--control-socket', path, '--control-socket-mode', '660', app], async (corral) => {
    await corral.ready();
    assert.is(statSync(path).mode & 0o777, 0o660);
    assert.is(json(['status', '--socket', path]).arbiter.pid, corral.pid);
  }, { env });
  assert.not.ok(existsSync(path));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
