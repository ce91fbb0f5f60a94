// An app or command line that cannot work stops corral quickly, with the cause and what to do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { fixture, isAlive, startCorral } from '../helpers/corral-process.js';

async function runToExit(args: string[], timeoutMs = 10_000) {
  const corral = startCorral(args);
  try {
    const startedAt = Date.now();
    const exit = await corral.waitForExit(timeoutMs);
    return { exit, output: corral.output, ms: Date.now() - startedAt, workers: corral.workerPids() };
  } finally {
    await corral.stop();
  }
}

test('a missing app module: exit 4 within seconds, naming the module; no respawn loop', async () => {
  const { exit, output, ms, workers } = await runToExit(['-w', '2', '-b', '127.0.0.1:0', 'no/such/module.js']);
  assert.is(exit.code, 4);
  assert.ok(ms < 5000, `took ${ms} ms`);
  assert.match(output, /Cannot find app module 'no\/such\/module\.js'/);
  assert.match(output, /\[ERROR\] App failed to load\. Cannot find app module/);
  assert.ok(workers.length <= 2, `booted ${workers.length} workers`);
  for (const pid of workers) assert.not.ok(isAlive(pid));
});

test('an app module without the named export: exit 4, naming the export and what there is', async () => {
  const { exit, output } = await runToExit(['-b', '127.0.0.1:0', 'examples/test.js:application']);
  assert.is(exit.code, 4);
  assert.match(output, /has no export 'application' \(it exports: app, default\)/);
});

test('an app that throws at import: exit 4 with the module and its error', async () => {
  const { exit, output } = await runToExit(['-b', '127.0.0.1:0', fixture('throws-at-import.js')]);
  assert.is(exit.code, 4);
  assert.match(output, /throws-at-import\.js.* failed to import: Error: DATABASE_URL is not set/);
  // The stack is shown once (by the worker); the arbiter's reason is one line.
  assert.is(output.match(/at file:\S*throws-at-import\.js:1:7/g)?.length, 1, output);
  assert.match(output, /\[ERROR\] App failed to load\. App module .* failed to import: Error: DATABASE_URL is not set\n/);
});

test('an app that throws at import: the error, the app\'s file and line and its stack, without corral\'s frames', async () => {
  const { exit, output } = await runToExit(['-b', '127.0.0.1:0', fixture('throws-json-at-import.mjs')]);
  assert.is(exit.code, 4);
  assert.match(output, /failed to import: SyntaxError: "undefined" is not valid JSON/);
  // The frame in the module it imports, then the app's own line.
  assert.match(output, /\n {4}at readSetting \(file:\/\/\S*reads-setting\.mjs:2:15\)\n {4}at file:\/\/\S*throws-json-at-import\.mjs:4:25/);
  assert.not.match(output, /node:internal|dist\/src\//);
});

test('a syntax error shows the file, line and source, in an ES module, a CommonJS one and one the app imports', async () => {
  const cases: [string, RegExp][] = [
    ['syntax-error.mjs', /failed to import: SyntaxError: Unexpected token '='\n {2}at \S*\/syntax-error\.mjs:3\n {2}let broken = = 2;\n {2} +\^/],
    ['syntax-error.cjs', /failed to import: SyntaxError: Unexpected token '='\n {2}at \S*\/syntax-error\.cjs:3\n {2}let broken = = 2;\n {2} +\^/],
    ['imports-syntax-error.mjs', /failed to import: SyntaxError: Unexpected token ';'\n {2}at \S*\/syntax-error-lib\.mjs:3\n {2}export const broken = \{;/],
  ];
  for (const [name, message] of cases) {
    const { exit, output } = await runToExit(['-b', '127.0.0.1:0', fixture(name)]);
    assert.is(exit.code, 4, name);
    assert.match(output, message, name);
  }
});

test('a package the app imports is missing: node\'s error code and the importing file', async () => {
  const { exit, output } = await runToExit(['-b', '127.0.0.1:0', fixture('imports-missing-package.mjs')]);
  assert.is(exit.code, 4);
  assert.match(output, /failed to import: Error \[ERR_MODULE_NOT_FOUND\]: Cannot find package 'corral-test-no-such-package' imported from \S*imports-missing-package\.mjs/);
  assert.not.match(output, /no stack frame in the app/);
});

test('an app that listens itself and exports nothing: the empty-export error says to export the app instead', async () => {
  const corral = startCorral(['-b', '127.0.0.1:0', fixture('listens-itself.mjs')], { env: { STRAY_PORT: '0' } });
  try {
    assert.is((await corral.waitForExit()).code, 4);
    assert.match(corral.output, /has no export 'default' \(it exports: none\)\. Name one with module:export\. If the app calls listen\(\) itself, export the app instead of calling listen\(\)/);
  } finally {
    await corral.stop();
  }
});

test('an export that is not an app: exit 4 saying what to export', async () => {
  const { exit, output } = await runToExit(['-b', '127.0.0.1:0', fixture('not-an-app.js')]);
  assert.is(exit.code, 4);
  assert.match(output, /export a node-style \(req, res\) handler/);
});

test('an unknown worker kind: exit 1, listing the known kinds', async () => {
  const { exit, output } = await runToExit(['-k', 'gevent', 'examples/test.js']);
  assert.is(exit.code, 1);
  assert.match(output, /Error: -k\/--worker-class: unknown worker kind 'gevent'\. Known kinds: async, sync/);
});

test('bad values name the setting and what is allowed (exit 2)', async () => {
  const cases: [string[], RegExp][] = [
    [['-w', 'abc', 'examples/test.js'], /-w\/--workers: 'abc' is not valid; use a whole number ≥ 1\./],
    [['-w', '0', 'examples/test.js'], /-w\/--workers: 0 is out of range; use a whole number ≥ 1\./],
    [['--timeout=-3', 'examples/test.js'], /-t\/--timeout: -3 is out of range; use a number ≥ 0\./],
    [['--log-level', 'loud', 'examples/test.js'], /--log-level: 'loud' is not one of debug, info, warning, error, critical\./],
    [['-b', '127.0.0.1:99999', 'examples/test.js'], /-b\/--bind: '127\.0\.0\.1:99999' has an invalid port '99999' \(0 to 65535\)\. Use HOST:PORT, \[IPV6\]:PORT, unix:PATH or fd:\/\/FD\.$/m],
    [['--no-such-flag', 'examples/test.js'], /Error: unknown option --no-such-flag\. Run 'corral --help' for the options\./],
    [['--wokers', '2', 'examples/test.js'], /Error: unknown option --wokers; did you mean --workers\? Run 'corral --help'/],
    [['--wokers=2', 'examples/test.js'], /Error: unknown option --wokers; did you mean --workers\?/],
    [['--timeout', '-1', 'examples/test.js'], /Error: -t\/--timeout: -1 is out of range; use a number ≥ 0\./],
    [['-t', '-1', 'examples/test.js'], /Error: -t\/--timeout: -1 is out of range; use a number ≥ 0\./],
    [['-b', '-x', 'examples/test.js'], /Error: -b\/--bind: '-x' starts with '-' as an option does; to give it as the value, write --bind=-x\./],
    [['examples/test.js', '--workers'], /Error: -w\/--workers needs a value: a whole number ≥ 1\./],
    [['--preload=yes', 'examples/test.js'], /Error: --preload takes no value; give the flag alone\./],
    [[], /No application module specified/],
  ];
  for (const [args, message] of cases) {
    const { exit, output } = await runToExit(args);
    assert.is(exit.code, 2, args.join(' '));
    assert.match(output, message);
  }
});

test('WEB_CONCURRENCY that is not a number is named as the culprit', async () => {
  const corral = startCorral(['examples/test.js'], { env: { WEB_CONCURRENCY: 'lots' } });
  try {
    assert.is((await corral.waitForExit()).code, 2);
    assert.match(corral.output, /environment variable WEB_CONCURRENCY: 'lots' is not valid/);
  } finally {
    await corral.stop();
  }
});

test('an address already in use: exit 1 with the address and a hint', async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const { port } = busy.address() as net.AddressInfo;
  try {
    const { exit, output } = await runToExit(['-b', `127.0.0.1:${port}`, 'examples/test.js']);
    assert.is(exit.code, 1);
    assert.match(output, new RegExp(`Can't bind 127\\.0\\.0\\.1:${port}: EADDRINUSE\\. Another process is listening there`));
  } finally {
    busy.close();
  }
});

test('--help and --version', async () => {
  const help = await runToExit(['--help']);
  assert.is(help.exit.code, 0);
  for (const flag of ['-b, --bind', '-w, --workers', '-k, --worker-class', '-t, --timeout', '--graceful-timeout', '--keep-alive', '--log-level', '--backlog']) {
    assert.ok(help.output.includes(flag), `help mentions ${flag}`);
  }
  assert.match(help.output, /default: \$WEB_CONCURRENCY or 1/);
  const version = await runToExit(['-v']);
  assert.match(version.output, /^corral \d+\.\d+\.\d+$/m);
});

test.run();
