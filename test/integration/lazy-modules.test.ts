// A server loads only what its settings use: the arbiter no HTTP stack, kinds,
// metrics or inspector; a worker no config-file reader, access log, metrics or
// TLS unless asked for. Each module is a file read and compiled at every start.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { connectHttp2, requestOn } from '../helpers/http2-client.js';

/** Runs corral with every process recording the modules it loads; gives them back by pid. `alsoServes` runs once the first 200 is in. */
async function modulesLoaded(args: string[], alsoServes?: (url: string) => Promise<void>): Promise<{ arbiter: string[]; worker: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-modules-'));
  const log = join(dir, 'modules.log');
  writeFileSync(log, '');
  try {
    return await withCorral(
      // No control socket unless the test names one.
      ['-w', '1', '-b', '127.0.0.1:0', ...(args.includes('--control-socket') ? [] : ['--no-control-socket']), ...args, fixture('app.js')],
      async (corral) => {
        const [url] = await corral.ready();
        assert.is((await request(url)).status, 200);
        await alsoServes?.(url);
        const [worker] = corral.workerPids();
        const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => line.split(' '));
        const of = (pid: number) => lines.filter(([owner]) => Number(owner) === pid).map(([, loaded]) => loaded);
        return { arbiter: of(corral.pid!), worker: of(worker) };
      },
      { env: { NODE_OPTIONS: `--import ${fixture('record-modules.mjs')}`, CORRAL_TEST_MODULE_LOG: log } },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadedAny = (modules: string[], names: string[]) => names.filter((name) => modules.some((url) => url === name || url.endsWith(`/${name}`)));

test('a plain start: the arbiter loads no kind, HTTP, TLS, metrics, inspector or control server; the worker no config file, access log, metrics, TLS, HTTP/2 or native msgpack', async () => {
  const { arbiter, worker } = await modulesLoaded([]);
  assert.ok(arbiter.length > 0 && worker.length > 0, 'the module log was written');
  assert.equal(
    loadedAny(arbiter, [
      'node:tls',
      'node:https',
      'kinds/async.js',
      'http/http-server.js',
      'arbiter/connection-dispatcher.js',
      'metrics/arbiter-metrics.js',
      'metrics/metrics-server.js',
      'metrics/statsd.js',
      'inspector/inspector-server.js',
      'inspector/live-feed.js',
      'inspector/stately-inspector.js',
      'ctl/control-server.js',
      'ctl/ctl-main.js',
      'msgpackr/node-index.js',
    ]),
    [],
  );
  assert.equal(
    loadedAny(worker, [
      'node:tls',
      'node:https',
      'node:http2',
      'http/http2-sessions.js',
      'node:worker_threads',
      'config/config-file.js',
      'log/access-log.js',
      'metrics/worker-metrics.js',
      'metrics/statsd.js',
      'worker/capture-output.js',
      'msgpackr/node-index.js',
    ]),
    [],
  );
  assert.ok(loadedAny(worker, ['kinds/async.js']).length === 1, 'the worker loads its kind');
});

test('both processes run the bundled build: the arbiter loads no module of dist/src but the launcher, the worker none, nor any package file', async () => {
  const { arbiter, worker } = await modulesLoaded([]);
  const files = (modules: string[]) => modules.filter((url) => url.startsWith('file:'));
  assert.equal(files(arbiter).filter((url) => url.includes('/dist/src/')), [new URL('../../src/cli/main.js', import.meta.url).href]);
  assert.ok(files(arbiter).some((url) => url.endsWith('/dist/bundle/cli-run-cli/cli/run-cli.js')), 'the arbiter runs the bundled CLI');
  assert.ok(files(worker).some((url) => url.endsWith('/dist/bundle/worker-main/worker/main.js')), 'the worker runs the bundled worker');
  assert.equal(files(worker).filter((url) => !url.includes('/dist/bundle/') && url !== pathToFileURL(fixture('app.js')).href), [], 'the worker loads only bundled files and the app');
  assert.equal(files(arbiter).filter((url) => url.includes('/node_modules/')), [], 'xstate and msgpackr are in the bundle');
});

test('a module changed since the bundle was made (tsc -w rewrote it alone) is run as it is: the CLI runs the modules, not the older bundle', async () => {
  // The worker's own module, newer than the bundle by a minute, as an incremental build leaves it.
  const changed = fileURLToPath(new URL('../../src/worker/run-worker.js', import.meta.url));
  const { atime, mtime } = statSync(changed);
  utimesSync(changed, atime, new Date(Date.now() + 60_000));
  try {
    const { arbiter, worker } = await modulesLoaded([]);
    assert.ok(arbiter.some((url) => url.endsWith('/dist/src/cli/run-cli.js')), 'the arbiter runs the modules');
    assert.not.ok(arbiter.some((url) => url.includes('/dist/bundle/')), 'nothing of the bundle');
    assert.ok(worker.some((url) => url.endsWith('/dist/src/worker/run-worker.js')), 'the worker runs the changed module');
  } finally {
    utimesSync(changed, atime, mtime);
  }
});

test('what the settings ask for is loaded, and serves: the access log and metrics in the worker, the metrics endpoint in the arbiter', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-modules-on-'));
  try {
    const { arbiter, worker } = await modulesLoaded(['--access-logfile', join(dir, 'access.log'), '--metrics-bind', '127.0.0.1:0']);
    assert.equal(loadedAny(arbiter, ['metrics/arbiter-metrics.js', 'metrics/metrics-server.js']).length, 2);
    assert.equal(loadedAny(worker, ['log/access-log.js', 'metrics/worker-metrics.js']).length, 2);
    assert.match(readFileSync(join(dir, 'access.log'), 'utf8'), /"GET \/ HTTP\/1\.1" 200/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with a control socket and no --dirty-app, the arbiter builds none of the dirty pool: no file it loads holds the dirty charts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-modules-ctl-'));
  const socket = join(dir, 'ctl.sock');
  try {
    const { arbiter } = await modulesLoaded(['--control-socket', socket], () => waitUntil(() => existsSync(socket), { what: 'the control socket' }));
    assert.equal(loadedAny(arbiter, ['ctl/control-server.js']).length, 1, 'the control server is loaded');
    const charts = arbiter
      .filter((url) => url.startsWith('file:'))
      .filter((url) => /\/\/ dist\/machines\/dirty-(pool|process)\.js/.test(readFileSync(new URL(url), 'utf8')));
    assert.equal(charts, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--http-protocols h2 loads HTTP/2 in the worker, and it serves prior-knowledge h2c', async () => {
  const { worker } = await modulesLoaded(['--http-protocols', 'h2,h1'], async (url) => {
    const session = await connectHttp2(url);
    try {
      assert.is((await requestOn(session, { ':path': '/' })).status, 200);
    } finally {
      session.close();
    }
  });
  assert.equal(loadedAny(worker, ['node:http2', 'http/http2-sessions.js']).length, 2);
});

test.run();
