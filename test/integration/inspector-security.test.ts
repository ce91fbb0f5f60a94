// The inspector against a DNS-rebinding page (a Host it does not answer for)
// and its token kept out of the log file; no browser needed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-inspector-sec-'));
const env = { XDG_RUNTIME_DIR: tmp };
const app = join(REPO_ROOT, 'examples/test.js');

/** The status and content type of a GET, once its head arrived (an event stream never ends), on a fresh connection. */
function head(port: number, path: string, host: string): Promise<{ status: number; type: string | undefined; first: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false, timeout: 10_000 }, (res) => {
      res.once('data', (chunk: Buffer) => {
        resolve({ status: res.statusCode!, type: res.headers['content-type'], first: chunk.toString('utf8') });
        req.destroy();
      });
      res.once('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], first: '' }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} (Host: ${host}) timed out`)));
    req.on('error', (error) => (req.destroyed && (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

/** Everything the server answers to `bytes` on a fresh connection, until it closes. */
function rawReply(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no reply')));
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
  });
}

test('on loopback: a Host it does not answer for is refused on every path, events included; localhost, 127.0.0.1 and the bound address work', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--inspector', '0', '-n', 'rebind', app], async (corral) => {
    await corral.ready();
    const { match } = await corral.waitForLine(/\[INFO\] Inspector: http:\/\/127\.0\.0\.1:(\d+)\/$/);
    const port = Number(match[1]);
    for (const path of ['/', '/charts', '/events', '/nowhere']) {
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost:${port + 1}`, `evil.example@127.0.0.1:${port}`]) {
        const refused = await head(port, path, host);
        assert.is(refused.status, 421, `${path} with Host '${host}'`);
        assert.match(refused.first, /Misdirected request/);
      }
    }
    // No Host at all (HTTP/1.0 may omit it): refused too.
    const bare = await rawReply(port, 'GET /charts HTTP/1.0\r\n\r\n');
    assert.match(bare, /^HTTP\/1\.1 421 /);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      assert.is((await head(port, '/', host)).status, 200, host);
      assert.is((await head(port, '/charts', host)).status, 200, host);
      const events = await head(port, '/events', host);
      assert.is(events.status, 200, host);
      assert.is(events.type, 'text/event-stream');
      assert.match(events.first, /^data: \{/);
    }
  }, { env });
});

test('on [::1]: Host [::1]:PORT works, another does not', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--inspector', '[::1]:0', '--no-control-socket', app], async (corral) => {
    await corral.ready();
    const { match } = await corral.waitForLine(/\[INFO\] Inspector: http:\/\/\[::1\]:(\d+)\/$/);
    const port = Number(match[1]);
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get({ host: '::1', port, path: '/charts', headers: { host }, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
      });
    assert.is(await get(`[::1]:${port}`), 200);
    assert.is(await get(`localhost:${port}`), 200);
    assert.is(await get(`rebind.evil.example:${port}`), 421);
  }, { env });
});

test('off loopback: the log file holds no token; `corral ctl inspector` gives the whole URL, which works', async () => {
  const errorlog = join(tmp, 'error.log');
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--inspector', '0.0.0.0:0', '-n', 'tokened', '--error-logfile', errorlog, app], async (corral) => {
    await waitUntil(() => /\[INFO\] Inspector: /.test(readLog()), { timeoutMs: 15_000, what: 'the inspector logged' });
    await waitUntil(() => /\[INFO\] Control socket: /.test(readLog()), { timeoutMs: 15_000, what: 'the control socket' });
    const logged = /\[INFO\] Inspector: (.*)$/m.exec(readLog())![1];
    assert.match(logged, /^http:\/\/0\.0\.0\.0:\d+\/\?token=… /, logged);
    assert.match(logged, /corral ctl inspector/, 'the log says where the whole URL is');

    const asked = spawnSync(process.execPath, [CLI, 'ctl', 'inspector', '--name', 'tokened'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.is(asked.status, 0, asked.stderr);
    const [, port, token] = /^http:\/\/0\.0\.0\.0:(\d+)\/\?token=([0-9a-f]{32})\n$/.exec(asked.stdout) ?? [];
    assert.ok(token, asked.stdout);
    assert.not.ok(readLog().includes(token), 'the token is nowhere in the log file');

    const base = `http://127.0.0.1:${port}`;
    assert.is((await request(base, { path: `/charts?token=${token}` })).status, 200);
    assert.is((await request(base, { path: '/charts' })).status, 403);
    assert.is((await request(base, { path: `/charts?token=${token}`, headers: { host: `evil.example:${port}` } })).status, 421);
    corral.signal('SIGTERM');
    await corral.waitForExit(15_000);
    assert.not.ok(readLog().includes(token), 'nor after the stop');
    assert.not.ok(corral.output.includes(token), 'nor on a stderr that is no terminal');
  }, { env });

  function readLog() {
    try {
      return readFileSync(errorlog, 'utf8');
    } catch {
      return '';
    }
  }
});

test('on a terminal, the whole URL is shown there, and the log line still leaves the token out', async () => {
  // script(1) gives corral a pseudo-terminal for stdout and stderr.
  const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;
  const launcher = (command: string[]): [string, string[]] => ['script', ['-qfec', command.map(quote).join(' '), '/dev/null']];
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--inspector', '0.0.0.0:0', '--no-control-socket', app], async (corral) => {
    const { match } = await corral.waitForLine(/Inspector, whole URL \(shown on this terminal only\): http:\/\/0\.0\.0\.0:(\d+)\/\?token=([0-9a-f]{32})\r?$/);
    const logged = await corral.waitForLine(/\[INFO\] Inspector: /);
    assert.not.ok(logged.match.input.includes(match[2]), logged.match.input);
    assert.is((await request(`http://127.0.0.1:${match[1]}`, { path: `/charts?token=${match[2]}` })).status, 200);
  }, { env, launcher });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
