// Config files that end the process or never finish loading: at start, under
// --check-config and on a reload (HUP), corral says which file and why, and
// never exits 0 as if all were well.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, isAlive, startCorral, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-config-loading-'));
const app = fixture('app.js');
let cases = 0;

function configDir(name: string, content: string): string {
  const dir = join(tmp, `case-${(cases += 1)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), content);
  return dir;
}

async function run(args: string[], cwd: string) {
  const corral = startCorral(args, { cwd });
  try {
    const exit = await corral.waitForExit(10_000);
    return { code: exit.code, output: corral.output };
  } finally {
    await corral.stop();
  }
}

/** [file name, content, what the one error line must say] */
const broken: [string, string, RegExp][] = [
  ['corral.config.mjs', 'process.exit(0);\nexport default { workers: 2 };\n', /corral\.config\.mjs called process\.exit\(0\) while loading/],
  ['corral.config.cjs', 'process.exit(0);\nmodule.exports = { workers: 2 };\n', /corral\.config\.cjs called process\.exit\(0\) while loading/],
  ['corral.config.mjs', 'export default async () => { await null; process.exit(3); };\n', /corral\.config\.mjs called process\.exit\(3\) while loading/],
  // From a timer, while the import still waits: fails at once, not at the deadline.
  ['corral.config.mjs', "setTimeout(() => process.exit(0), 10);\nawait new Promise((resolve) => setTimeout(resolve, 600_000));\nexport default {};\n", /corral\.config\.mjs called process\.exit\(0\) while loading/],
  // Nothing pending: without a deadline the process just runs out of work and ends with 0.
  ['corral.config.mjs', 'await new Promise(() => {});\nexport default { workers: 2 };\n', /corral\.config\.mjs did not finish loading within 1 s \(a top-level await/],
  // A live timer: without a deadline this waits for ever.
  ['corral.config.mjs', 'export default () => new Promise((resolve) => setTimeout(resolve, 600_000));\n', /corral\.config\.mjs did not finish loading within 1 s/],
];

test('starting with a config file that exits or never finishes loading: exit 1, one error line naming the file', async () => {
  for (const [name, content, message] of broken) {
    const { code, output } = await run(['-b', '127.0.0.1:0', '--hook-timeout', '1', app], configDir(name, content));
    assert.is(code, 1, `${content}\n${output}`);
    assert.match(output, message);
    assert.is(output.split('\n').filter((line) => line.startsWith('Error:')).length, 1, output);
    assert.not.match(output, /Listening at|Booting worker/);
  }
});

test('--check-config with such a config file: exit 1 with the reason, not a pass', async () => {
  for (const [name, content, message] of broken) {
    const { code, output } = await run(['--check-config', '--hook-timeout', '1', app], configDir(name, content));
    assert.is(code, 1, `${content}\n${output}`);
    assert.match(output, message);
    assert.not.match(output, /are fine/);
  }
});

test('the load deadline comes from CORRAL_CMD_ARGS too', async () => {
  const corral = startCorral(['--check-config', app], { cwd: configDir(broken[4][0], broken[4][1]), env: { CORRAL_CMD_ARGS: '--hook-timeout 1' } });
  try {
    assert.is((await corral.waitForExit(10_000)).code, 1, corral.output);
    assert.match(corral.output, broken[4][2]);
  } finally {
    await corral.stop();
  }
});

test('--hook-timeout 0 (no deadline) and a load waiting on nothing: exit 1 naming the file, not a silent 0', async () => {
  const { code, output } = await run(['--check-config', '--hook-timeout', '0', app], configDir('corral.config.mjs', 'await new Promise(() => {});\nexport default {};\n'));
  assert.is(code, 1, output);
  assert.match(output, /Error: config file .*corral\.config\.mjs never finished loading: it waits on a promise nothing will settle/);
  assert.not.match(output, /are fine/);
});

test('a config file that hangs only in the workers: the boot fails with the reason and corral halts (3), no boot-timeout loop', async () => {
  const cwd = configDir('corral.config.mjs', "if (process.title.startsWith('corral: worker')) await new Promise((resolve) => setTimeout(resolve, 600_000));\nexport default {};\n");
  // The deadline in a worker is a quarter of --timeout (1 s), well before the arbiter's boot timeout.
  const { code, output } = await run(['-b', '127.0.0.1:0', '--timeout', '4', app], cwd);
  assert.is(code, 3, output);
  assert.match(output, /Worker failed to boot: .*corral\.config\.mjs did not finish loading within 1 s/);
  assert.not.match(output, /WORKER TIMEOUT/);
  assert.is((output.match(/Booting worker with pid/g) ?? []).length, 1, output);
});

for (const [label, content, reason] of [
  ['calls process.exit(0)', 'process.exit(0);\nexport default {};\n', /corral\.config\.mjs called process\.exit\(0\) while loading/],
  ['never finishes loading', 'await new Promise(() => {});\nexport default {};\n', /corral\.config\.mjs did not finish loading within 1 s/],
  ['calls process.exit(0) from a timer', "setTimeout(() => process.exit(0), 10);\nawait new Promise((resolve) => setTimeout(resolve, 600_000));\nexport default {};\n", /corral\.config\.mjs called process\.exit\(0\) while loading/],
] as const) {
  test(`HUP when the config file now ${label}: the reload fails with the reason, the old workers keep serving`, async () => {
    const cwd = configDir('corral.config.mjs', 'export default { workers: 2 };\n');
    await withCorral(['-b', '127.0.0.1:0', '--hook-timeout', '1', app], async (corral) => {
      const [url] = await corral.ready();
      const workers = corral.workerPids();
      assert.is(workers.length, 2);
      writeFileSync(join(cwd, 'corral.config.mjs'), content);
      const from = corral.lines.length;
      corral.signal('SIGHUP');
      await corral.waitForLine(new RegExp(`\\[ERROR\\] Reload failed, keeping the current workers: .*${reason.source}`), { from, timeoutMs: 10_000 });
      assert.ok(isAlive(corral.pid), 'the arbiter is still up');
      assert.ok(workers.every(isAlive), 'the old workers are still up');
      assert.is((await request(url)).status, 200);
      assert.is(corral.workerPids().length, 2, 'no new worker was started');
      // Fixed again, the next reload goes through.
      writeFileSync(join(cwd, 'corral.config.mjs'), 'export default { workers: 1 };\n');
      const again = corral.lines.length;
      corral.signal('SIGHUP');
      await corral.waitForLine(/\[INFO\] Reload complete: generation 2 serving/, { from: again, timeoutMs: 15_000 });
    }, { cwd });
  });
}

test('TERM while a reload waits on a config file that hangs: a clean stop, exit 0', async () => {
  const cwd = configDir('corral.config.mjs', 'export default {};\n');
  const corral = startCorral(['-b', '127.0.0.1:0', '--hook-timeout', '30', app], { cwd });
  try {
    await corral.ready();
    writeFileSync(join(cwd, 'corral.config.mjs'), 'await new Promise((resolve) => setTimeout(resolve, 600_000));\nexport default {};\n');
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    await corral.waitForLine(/Handling signal: hup/, { from });
    corral.signal('SIGTERM');
    const exit = await corral.waitForExit(15_000);
    assert.is(exit.code, 0, corral.output);
    assert.match(corral.output, /\[INFO\] Shutting down: Master/);
    assert.not.match(corral.output, /process\.exit|Error:/);
  } finally {
    await corral.stop();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
