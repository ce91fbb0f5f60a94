// USR2 under load: a new arbiter inherits the sockets; WINCH and TERM retire the old one;
// the pidfile moves to the new one; no request fails. And TERM to the new one rolls back.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-upgrade-'));
const app = join(REPO_ROOT, 'examples/test.js');
const readPid = (path: string) => (existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : undefined);
const title = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '');

test('USR2, WINCH, TERM under keep-alive load: the new arbiter takes over, no request fails', async () => {
  const pidfile = join(tmp, 'corral.pid');
  const socketPath = join(tmp, 'app.sock');
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-b', `unix:${socketPath}`, '-p', pidfile, '-n', 'shop', app], async (corral) => {
    const [url] = await corral.ready();
    const oldArbiter = corral.pid;
    const oldWorkers = corral.workerPids();
    const load = startLoad(url, { clients: 8 });
    try {
      await waitUntil(() => load.result.ok > 200, { what: 'load to be flowing' });

      corral.signal('SIGUSR2');
      await waitUntil(() => readPid(`${pidfile}.2`) !== undefined, { what: 'PIDFILE.2' });
      const newArbiter = readPid(`${pidfile}.2`)!;
      await corral.waitForLine(new RegExp(`\\[${newArbiter}\\] \\[INFO\\] Inherited 2 socket\\(s\\) from arbiter ${oldArbiter} \\(upgrade\\)`));
      await corral.waitForLine(new RegExp(`\\[${newArbiter}\\] \\[INFO\\] Ready: 2 worker\\(s\\) serving`));
      assert.is(title(newArbiter), 'corral: master.2 [shop]');
      assert.is(readPid(pidfile), oldArbiter);

      corral.signal('SIGWINCH');
      await waitUntil(() => oldWorkers.every((pid) => !isAlive(pid)), { what: 'the old workers to drain' });
      corral.signal('SIGTERM');
      assert.equal(await corral.processExited, { code: 0, signal: null });
      await waitUntil(() => readPid(pidfile) === newArbiter, { what: 'the pidfile to name the new arbiter' });
      assert.not.ok(existsSync(`${pidfile}.2`));
      assert.is(title(newArbiter), 'corral: master [shop]');
      assert.ok(existsSync(socketPath), 'the unix socket file stays: the new arbiter serves on it');

      const before = load.result.ok;
      await waitUntil(() => load.result.ok > before + 200, { what: 'load served by the new arbiter alone' });
      const result = await load.stop();
      assert.equal(result.failures, [], `${result.failures.length} of ${result.sent} failed`);
      assert.is((await request(`unix:${socketPath}`)).status, 200);
    } finally {
      await load.stop();
    }

    const newArbiter = readPid(pidfile)!;
    process.kill(newArbiter, 'SIGTERM');
    await waitUntil(() => !isAlive(newArbiter), { timeoutMs: 10_000, what: 'the new arbiter to stop' });
    assert.not.ok(existsSync(pidfile));
    assert.not.ok(existsSync(socketPath), 'the last arbiter removes the socket file');
  }, { cwd: tmp });
});

test('TERM to the new arbiter rolls the upgrade back; the old one keeps serving', async () => {
  const pidfile = join(tmp, 'rollback.pid');
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-p', pidfile, app], async (corral) => {
    const [url] = await corral.ready();
    corral.signal('SIGUSR2');
    await waitUntil(() => readPid(`${pidfile}.2`) !== undefined, { what: 'PIDFILE.2' });
    const newArbiter = readPid(`${pidfile}.2`)!;
    await corral.waitForLine(new RegExp(`\\[${newArbiter}\\] \\[INFO\\] Ready: 1 worker\\(s\\) serving`));
    process.kill(newArbiter, 'SIGTERM');
    await waitUntil(() => !isAlive(newArbiter), { timeoutMs: 10_000, what: 'the new arbiter to stop' });
    assert.not.ok(existsSync(`${pidfile}.2`));
    assert.is(readPid(pidfile), corral.pid);
    for (let i = 0; i < 20; i += 1) assert.is((await request(url)).status, 200);
  }, { cwd: join(tmp) });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
