// Settings from config files, CORRAL_CMD_ARGS and the command line, through the real CLI.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, startCorral } from '../helpers/corral-process.js';

const app = join(REPO_ROOT, 'examples/test.js');

const tmp = mkdtempSync(join(tmpdir(), 'corral-config-'));
let counter = 0;

/** A fresh directory holding one config file. */
function configDir(name: string, content: string): string {
  const dir = join(tmp, `case-${(counter += 1)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), content);
  return dir;
}

async function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const corral = startCorral(args, options);
  try {
    const exit = await corral.waitForExit();
    return { code: exit.code, output: corral.output };
  } finally {
    await corral.stop();
  }
}

/** --print-config lines as a map of key to JSON value. */
async function printed(args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }) {
  const { code, output } = await run(['--print-config', ...args], options);
  assert.is(code, 0, output);
  return Object.fromEntries(output.split('\n').filter((line) => line.includes(' = ')).map((line) => {
    const [key, value] = line.split(/\s+=\s+/);
    return [key, value];
  }));
}

test('defaults print as gunicorn would have them', async () => {
  const config = await printed([], { cwd: join(tmp) });
  assert.is(config.workers, '1');
  assert.is(config.bind, '["127.0.0.1:8000"]');
  assert.is(config.timeout, '30');
  assert.is(config.keepAlive, '2');
  assert.is(config.accessLogFormat, JSON.stringify('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'));
});

test('precedence: defaults < config file < CORRAL_CMD_ARGS < command line', async () => {
  const dir = configDir('corral.config.mjs', "export default { workers: 2, timeout: 12, keepAlive: 7, bind: ['127.0.0.1:9001'] };\n");
  const fromFile = await printed([], { cwd: dir, env: { WEB_CONCURRENCY: '5' } });
  assert.is(fromFile.workers, '2', 'the file beats WEB_CONCURRENCY');
  assert.is(fromFile.bind, '["127.0.0.1:9001"]');
  const fromEnvArgs = await printed([], { cwd: dir, env: { CORRAL_CMD_ARGS: "-w 3 --timeout 13 -b '127.0.0.1:9002'" } });
  assert.is(fromEnvArgs.workers, '3');
  assert.is(fromEnvArgs.timeout, '13');
  assert.is(fromEnvArgs.keepAlive, '7');
  assert.is(fromEnvArgs.bind, '["127.0.0.1:9002"]');
  const fromCli = await printed(['-w', '4'], { cwd: dir, env: { CORRAL_CMD_ARGS: '-w 3 --timeout 13' } });
  assert.is(fromCli.workers, '4');
  assert.is(fromCli.timeout, '13');
});

test('a config file may export a (possibly async) function, CommonJS or JSON, or be named with -c', async () => {
  const asyncFn = configDir('corral.config.js', 'export default async () => ({ workers: 6, logLevel: "debug" });\n');
  assert.is((await printed([], { cwd: asyncFn })).workers, '6');
  const cjs = configDir('corral.config.cjs', 'module.exports = { gracefulTimeout: 3 };\n');
  assert.is((await printed([], { cwd: cjs })).gracefulTimeout, '3');
  const json = configDir('corral.config.json', '{ "backlog": 64 }\n');
  assert.is((await printed([], { cwd: json })).backlog, '64');
  const named = configDir('production.mjs', 'export default { workers: 9 };\n');
  assert.is((await printed(['-c', 'production.mjs'], { cwd: named })).workers, '9');
});

test('hooks show in --print-config', async () => {
  const dir = configDir('corral.config.mjs', 'export default { onStarting() {}, whenReady: async () => {} };\n');
  const config = await printed([], { cwd: dir });
  assert.is(config.onStarting, '[function]');
  assert.is(config.whenReady, '[function]');
});

test('config-file mistakes: exit 1, one line naming the file, the key and what is allowed', async () => {
  const cases: [string, string, RegExp][] = [
    ['corral.config.mjs', 'export default { graceful_timeout: 5 };', /corral\.config\.mjs: unknown setting 'graceful_timeout'\. Did you mean 'gracefulTimeout'\?/],
    ['corral.config.mjs', 'export default { workers: "many" };', /corral\.config\.mjs: workers: 'many' is not valid; use a whole number ≥ 1\./],
    ['corral.config.mjs', 'export default { logLevel: "loud" };', /logLevel: 'loud' is not one of debug, info, warning, error, critical\./],
    ['corral.config.mjs', 'export default { bind: "localhost:99999" };', /bind: 'localhost:99999' has an invalid port '99999' \(0 to 65535\)\. Use HOST:PORT, \[IPV6\]:PORT, unix:PATH or fd:\/\/FD\.$/m],
    ['corral.config.mjs', 'export default { worker: 2 };', /corral\.config\.mjs: unknown setting 'worker'\. Did you mean 'workers'\?/],
    ['corral.config.mjs', 'export default { gracefullTimeout: 2 };', /unknown setting 'gracefullTimeout'\. Did you mean 'gracefulTimeout'\?/],
    ['corral.config.mjs', 'export default { app: 42 };', /corral\.config\.mjs: app must be an APP_MODULE string/],
    ['corral.config.mjs', 'export default { accesslog: "/nonexistent-corral-dir/access.log" };', /Error: \S*corral\.config\.mjs: accesslog: cannot open the access log \/nonexistent-corral-dir\/access\.log: its directory does not exist/],
    ['corral.config.mjs', 'throw new Error("no secrets file");', /config file .*corral\.config\.mjs failed to load: no secrets file/],
    ['corral.config.mjs', 'export default () => { throw new Error("vault sealed"); };', /the function exported by config file .* threw: vault sealed/],
    ['corral.config.mjs', 'export default [1, 2];', /must export an object of settings .* not an array/],
    ['corral.config.json', '{ "workers": 2, }', /corral\.config\.json is not valid JSON/],
    ['corral.config.mjs', 'export default { onStarting: 42 };', /hook 'onStarting' must be a function, not number/],
    ['corral.config.mjs', 'export default { statsdPrefix: "app" };', /statsdPrefix is set but statsdHost is not/],
  ];
  for (const [file, content, message] of cases) {
    const { code, output } = await run([app], { cwd: configDir(file, content) });
    assert.is(code, 1, `${content}\n${output}`);
    assert.match(output, message);
    const errorLines = output.split('\n').filter((line) => line.startsWith('Error:'));
    assert.is(errorLines.length, 1, output);
    assert.not.match(output, /^\s+at /m, 'no stack trace');
  }
});

test('the config file may name the app; one on the command line wins', async () => {
  const dir = configDir('corral.config.mjs', `export default { app: ${JSON.stringify(app)}, bind: ['127.0.0.1:0'] };\n`);
  const fromFile = startCorral([], { cwd: dir });
  try {
    const [url] = await fromFile.ready();
    const response = await fetch(url);
    assert.is(response.status, 200);
    assert.match(await response.text(), /Hello/);
  } finally {
    await fromFile.stop();
  }
  const checked = await run(['--check-config', 'no/such/app.js'], { cwd: dir });
  assert.is(checked.code, 1);
  assert.match(checked.output, /Cannot find app module 'no\/such\/app\.js'/);
});

test('an access log path the command line gave is named by its flag', async () => {
  const { code, output } = await run(['--access-logfile', '/nonexistent-corral-dir/access.log', 'examples/test.js']);
  assert.is(code, 1);
  assert.match(output, /Error: --access-logfile: cannot open the access log/);
});

test('a -c file that does not exist is named', async () => {
  const { code, output } = await run(['-c', 'nope.mjs', 'examples/test.js']);
  assert.is(code, 1);
  assert.match(output, /config file .*nope\.mjs does not exist/);
});

test('CORRAL_CMD_ARGS mistakes say where they came from', async () => {
  const { code, output } = await run(['examples/test.js'], { env: { CORRAL_CMD_ARGS: '--workers=lots' } });
  assert.is(code, 2);
  assert.match(output, /CORRAL_CMD_ARGS: -w\/--workers: 'lots' is not valid/);
});

test('--check-config: 0 when settings and app load, 1 with the reason when not', async () => {
  const good = await run(['--check-config', 'examples/test.js']);
  assert.is(good.code, 0, good.output);
  const bad = await run(['--check-config', 'examples/nope.js']);
  assert.is(bad.code, 1);
  assert.match(bad.output, /Cannot find app module 'examples\/nope\.js'/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
