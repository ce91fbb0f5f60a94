// -e, --chdir, -n, -p, hooks and the error log options, through the real CLI.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, fixture, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-operator-'));
const app = fixture('app.js');
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');

test('-e KEY=VALUE reaches the app in every worker', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-e', 'GREETING=hi there', '--env', 'EMPTY=', app], async (corral) => {
    const [url] = await corral.ready();
    assert.is((await request(url, { path: '/env?name=GREETING' })).body, 'hi there');
    assert.is((await request(url, { path: '/env?name=EMPTY' })).body, '');
  });
});

test("node's flags given to corral reach its workers, except the inspector's port", async () => {
  const launcher = ([node, ...rest]: string[]): [string, string[]] => [node, ['--max-old-space-size=200', '--inspect=127.0.0.1:0', ...rest]];
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', fixture('node-flags-app.js')], async (corral) => {
    const [url] = await corral.ready();
    const seen = JSON.parse((await request(url)).body);
    assert.equal(seen.execArgv, ['--max-old-space-size=200']);
    // The limit counts the young generation too; without the flag it is some GB here.
    assert.ok(seen.heapLimitMb >= 200 && seen.heapLimitMb < 300, `heap limit ${seen.heapLimitMb} MB`);
  }, { launcher });
});

test('--chdir: APP_MODULE resolves from the new directory', async () => {
  await withCorral(['-b', '127.0.0.1:0', '--chdir', join(REPO_ROOT, 'examples'), 'test:app'], async (corral) => {
    const [url] = await corral.ready();
    assert.is((await request(url)).body, 'Hello, World!\n');
  }, { cwd: tmp });
});

test('-n NAME sets the process titles of the arbiter and workers; the default is the app module', async () => {
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '-n', 'shop-api', app], async (corral) => {
    await corral.ready();
    assert.is(cmdline(corral.pid), 'corral: master [shop-api]');
    for (const pid of corral.workerPids()) assert.is(cmdline(pid), 'corral: worker [shop-api]');
  });
  await withCorral(['-b', '127.0.0.1:0', 'examples/test.js'], async (corral) => {
    await corral.ready();
    assert.is(cmdline(corral.pid), 'corral: master [examples/test.js]');
  });
});

test('-p FILE holds the arbiter pid while it runs and is removed on exit', async () => {
  const pidfile = join(tmp, 'corral.pid');
  const corral = startCorral(['-b', '127.0.0.1:0', '-p', pidfile, app]);
  try {
    await corral.ready();
    assert.is(readFileSync(pidfile, 'utf8').trim(), String(corral.pid));
    corral.signal('SIGTERM');
    assert.is((await corral.waitForExit()).code, 0);
    assert.not.ok(existsSync(pidfile));
  } finally {
    await corral.stop();
  }
});

test('-p FILE is never there empty: while corral starts (a slow onStarting hook) it is absent, then holds the pid', async () => {
  const dir = join(tmp, 'pidfile-appears');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'corral.config.mjs'), 'export default { onStarting: () => new Promise((resolve) => setTimeout(resolve, 1500)) };\n');
  const pidfile = join(dir, 'corral.pid');
  const corral = startCorral(['-b', '127.0.0.1:0', '--hook-timeout', '10', '-p', pidfile, app], { cwd: dir });
  try {
    const seen = new Set<string>();
    await waitUntil(() => {
      if (existsSync(pidfile)) seen.add(readFileSync(pidfile, 'utf8'));
      return corral.lines.some((line) => /Ready: 1 worker/.test(line));
    }, { timeoutMs: 10_000, what: 'corral to be ready' });
    assert.equal([...seen], [`${corral.pid}\n`], 'every read of the pidfile found the pid');
    assert.equal(readdirSync(dir).sort(), ['corral.config.mjs', 'corral.pid'], 'nothing left beside it');
  } finally {
    await corral.stop();
  }
});

test('log and pid files in a missing directory: exit 1, one line naming the setting and path', async () => {
  for (const [flag, role] of [['--error-logfile', 'error log'], ['--access-logfile', 'access log'], ['-p', 'pidfile']]) {
    const corral = startCorral([flag, '/nonexistent-dir/x.log', app]);
    try {
      assert.is((await corral.waitForExit()).code, 1);
      assert.match(corral.output, new RegExp(`Error: ${flag.replace(/^-p$/, '-p/--pid')}: cannot open the ${role} /nonexistent-dir/x\\.log: its directory does not exist`));
    } finally {
      await corral.stop();
    }
  }
});

test('hooks run in the arbiter or the worker as gunicorn runs them; a throwing hook is logged, not fatal', async () => {
  const dir = join(tmp, 'hooks');
  mkdirSync(dir, { recursive: true });
  const record = join(dir, 'hooks.log');
  const line = (name: string) => `appendFileSync(${JSON.stringify(record)}, \`${name} \${process.pid}\\n\`)`;
  writeFileSync(
    join(dir, 'corral.config.mjs'),
    `import { appendFileSync } from 'node:fs';
export default {
  onStarting() { ${line('onStarting')} },
  whenReady() { ${line('whenReady')}; throw new Error('monitoring is down'); },
  preFork() { ${line('preFork')} },
  async postFork() { ${line('postFork')} },
  postWorkerInit() { ${line('postWorkerInit')} },
  preRequest(worker, req) { ${line('preRequest')} },
  postRequest(worker, req, res) { ${line('postRequest')} },
  childExit(worker) { ${line('childExit')} },
  workerExit() { ${line('workerExit')} },
  workerInt() { ${line('workerInt')} },
  onExit() { ${line('onExit')} },
};
`,
  );
  const corral = startCorral(['-b', '127.0.0.1:0', app], { cwd: dir });
  try {
    const [url] = await corral.ready();
    await corral.waitForLine(/\[ERROR\] Hook whenReady failed: Error: monitoring is down/);
    assert.is((await request(url)).status, 200, 'still serving after a hook threw');
    corral.signal('SIGINT');
    assert.is((await corral.waitForExit()).code, 0);
  } finally {
    await corral.stop();
  }
  const arbiter = String(corral.pid);
  const [worker] = corral.workerPids().map(String);
  const calls = readFileSync(record, 'utf8').trim().split('\n').map((entry) => entry.split(' '));
  const where = (name: string) => calls.filter(([hook]) => hook === name).map(([, pid]) => pid);
  for (const name of ['onStarting', 'whenReady', 'preFork', 'childExit', 'onExit']) assert.equal(where(name), [arbiter], name);
  for (const name of ['postFork', 'postWorkerInit', 'preRequest', 'postRequest', 'workerInt', 'workerExit']) assert.equal(where(name), [worker], name);
  const order = calls.map(([hook]) => hook);
  assert.ok(order.indexOf('onStarting') < order.indexOf('preFork'));
  assert.ok(order.indexOf('postFork') < order.indexOf('postWorkerInit'));
  assert.ok(order.indexOf('childExit') < order.indexOf('onExit'));
});

test('--error-logfile with --log-format json writes JSON lines there, not to stderr', async () => {
  const errorlog = join(tmp, 'error.json.log');
  await withCorral(['-b', '127.0.0.1:0', '--error-logfile', errorlog, '--log-format', 'json', app], async (corral) => {
    await waitUntil(() => existsSync(errorlog) && readFileSync(errorlog, 'utf8').includes('Ready: 1 worker(s) serving'), { what: 'the ready line in the file' });
    assert.is(corral.output, '', 'nothing on stderr');
  });
  const entries = readFileSync(errorlog, 'utf8').trim().split('\n').map((text) => JSON.parse(text) as { level: string; msg: string; pid: number });
  assert.ok(entries.some((entry) => entry.level === 'info' && /^Listening at: http:\/\/127\.0\.0\.1:\d+/.test(entry.msg)));
  assert.ok(entries.some((entry) => entry.msg.startsWith('Worker exiting')), 'worker lines too');
});

test('--capture-output sends what the app prints to the error log file', async () => {
  const errorlog = join(tmp, 'captured.log');
  await withCorral(['-b', '127.0.0.1:0', '--error-logfile', errorlog, '--capture-output', app], async (corral) => {
    await waitUntil(() => existsSync(errorlog) && readFileSync(errorlog, 'utf8').includes('Ready:'), { what: 'ready' });
    const url = /Listening at: (\S+)/.exec(readFileSync(errorlog, 'utf8'))![1];
    await request(url, { path: '/print?text=checkout-complete' });
    await waitUntil(() => readFileSync(errorlog, 'utf8').includes('app says checkout-complete'), { what: 'captured output' });
    assert.not.match(corral.output, /checkout-complete/);
  });
});

// An app printing as apps do: whole lines, several lines at once, a line in pieces, quotes and control characters.
const printingApp = join(tmp, 'printing-app.mjs');
writeFileSync(
  printingApp,
  `export default (req, res) => {
  console.log('order %s shipped', 'A-17');
  console.error('payment "declined"\\tretrying');
  process.stdout.write('line one\\nline two\\n');
  process.stdout.write('half a ');
  process.stdout.write(Buffer.from('line ✓\\n'));
  res.end('printed');
};
`,
);

const jsonRecords = (text: string) => text.trim().split('\n').map((line) => {
  try {
    return JSON.parse(line) as { time: string; pid: number; level: string; stream?: string; msg: string };
  } catch {
    throw new Error(`not a JSON line: ${line}`);
  }
});

test('--capture-output with --log-format json: each line the app prints is a JSON record of its own in the error log', async () => {
  const errorlog = join(tmp, 'captured.json.log');
  await withCorral(['-b', '127.0.0.1:0', '--error-logfile', errorlog, '--log-format', 'json', '--capture-output', printingApp], async (corral) => {
    await waitUntil(() => existsSync(errorlog) && readFileSync(errorlog, 'utf8').includes('Ready:'), { what: 'ready' });
    const url = /Listening at: (\S+)/.exec(readFileSync(errorlog, 'utf8'))![1];
    assert.is((await request(url)).body, 'printed');
    await waitUntil(() => readFileSync(errorlog, 'utf8').includes('half a line'), { what: 'the captured lines' });
    const entries = jsonRecords(readFileSync(errorlog, 'utf8'));
    const worker = entries.find((entry) => entry.msg.startsWith('Booting worker'))!.msg.match(/pid: (\d+)/)![1];
    const captured = entries.filter((entry) => entry.stream !== undefined);
    assert.equal(
      captured.map(({ pid, level, stream, msg }) => ({ pid, level, stream, msg })),
      [
        { pid: Number(worker), level: 'info', stream: 'stdout', msg: 'order A-17 shipped' },
        { pid: Number(worker), level: 'error', stream: 'stderr', msg: 'payment "declined"\tretrying' },
        { pid: Number(worker), level: 'info', stream: 'stdout', msg: 'line one' },
        { pid: Number(worker), level: 'info', stream: 'stdout', msg: 'line two' },
        { pid: Number(worker), level: 'info', stream: 'stdout', msg: 'half a line ✓' },
      ],
    );
    for (const entry of captured) assert.ok(!Number.isNaN(Date.parse(entry.time)), entry.time);
    assert.is(corral.output, '', 'nothing on stderr or stdout');
  });
  // Every line of the file parses, to the last one written on the way out.
  assert.match(jsonRecords(readFileSync(errorlog, 'utf8')).at(-1)!.msg, /Shutting down/);
});

test('--capture-output with --log-format json and the error log on stderr: the output is JSON lines only', async () => {
  const corral = startCorral(['-b', '127.0.0.1:0', '--log-format', 'json', '--capture-output', printingApp]);
  try {
    await corral.waitForLine(/"msg":"Ready: 1 worker/);
    const url = /"msg":"Listening at: (\S+) /.exec(corral.output)![1];
    assert.is((await request(url)).body, 'printed');
    await corral.waitForLine(/"msg":"half a line ✓"/);
  } finally {
    await corral.stop();
  }
  // stdout and stderr together: the app's stdout lines went into stderr as records, and no raw line is left anywhere.
  const entries = jsonRecords(corral.output);
  assert.is(entries.filter((entry) => entry.stream === 'stdout').length, 4);
  assert.is(entries.filter((entry) => entry.stream === 'stderr').length, 1);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
