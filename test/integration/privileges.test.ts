// As root: bind a privileged port, run workers as nobody; and run from a read-only directory.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const isRoot = process.getuid?.() === 0;
const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const gidOf = (pid: number) => Number(/^Gid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

/** A privileged port nothing listens on right now. */
async function freePrivilegedPort(): Promise<number> {
  for (let port = 1023; port > 900; port -= 1) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port below 1024');
}

if (isRoot) {
  test('as root: a port below 1024 is bound, and workers run as nobody:nogroup', async () => {
    const port = await freePrivilegedPort();
    await withCorral(['-w', '2', '-b', `127.0.0.1:${port}`, '-u', 'nobody', '-g', 'nogroup', 'examples/test.js'], async (corral) => {
      const [url] = await corral.ready();
      assert.is(url, `http://127.0.0.1:${port}`);
      assert.is((await request(url)).status, 200);
      assert.is(uidOf(corral.pid), 0, 'the arbiter keeps root to rebind on reload');
      for (const pid of corral.workerPids()) {
        assert.is(uidOf(pid), 65534, `worker ${pid} runs as nobody`);
        assert.is(gidOf(pid), 65534, `worker ${pid} runs as nogroup`);
      }
    });
  });

  test('log files are handed to the workers\' user so they can append', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-priv-'));
    try {
      const errorlog = join(dir, 'error.log');
      await withCorral(['-b', '127.0.0.1:0', '-u', 'nobody', '--error-logfile', errorlog, 'examples/test.js'], async () => {
        await waitUntil(() => existsSync(errorlog) && readFileSync(errorlog, 'utf8').includes('Ready: 1 worker(s) serving'), { timeoutMs: 10_000, what: 'ready' });
      });
      assert.match(readFileSync(errorlog, 'utf8'), /\[\d+\] \[INFO\] Worker exiting/, 'the worker (as nobody) wrote to the file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('an unknown user or a bad umask fails at start with the reason', async () => {
  for (const [args, message] of [
    [['-u', 'no-such-user-here'], /-u\/--user: no user 'no-such-user-here' on this system/],
    [['-m', '999'], /-m\/--umask: '999' is not an octal mode/],
    [['-g', 'nogroup'], /--group needs --user/],
  ] as const) {
    await withCorral([...args, 'examples/test.js'], async (corral) => {
      assert.is((await corral.waitForExit()).code, 1);
      assert.match(corral.output, message);
    });
  }
});

test('corral writes nothing unless asked: it serves from a read-only working directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-ro-'));
  chmodSync(dir, 0o755);
  const site = join(dir, 'site');
  mkdirSync(site);
  writeFileSync(join(site, 'app.mjs'), "export default (req, res) => res.end('read-only ok');\n");
  chmodSync(site, 0o555);
  // Root ignores permission bits, so the server runs as nobody here when nobody can reach the
  // checkout; either way, the directory must be exactly as it was.
  const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  const nobodyCanRun = isRoot && spawnSync(asNobody[0], [...asNobody.slice(1), process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(CLI)})`]).status === 0;
  const launcher = nobodyCanRun ? (command: string[]): [string, string[]] => [asNobody[0], [...asNobody.slice(1), ...command]] : undefined;
  const listing = () => JSON.stringify(readdirSync(site).map((name) => [name, statSync(join(site, name)).mtimeMs]));
  const before = listing();
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', 'app.mjs'], async (corral) => {
      const [url] = await corral.ready();
      assert.is((await request(url)).body, 'read-only ok');
    }, { cwd: site, launcher, env: { HOME: site } });
    assert.is(listing(), before, 'nothing was written in the working directory');
  } finally {
    chmodSync(site, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
