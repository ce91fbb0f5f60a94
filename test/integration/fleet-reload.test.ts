// The fleet settings follow the config file on HUP, through the real CLI:
// --drain-delay is the arbiter's (the next TERM waits the new delay),
// --max-memory and --request-timeout are the workers' (the generation the
// reload starts has the new limits).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, isAlive, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const app = fixture('limits-app.js');
const tmp = mkdtempSync(join(tmpdir(), 'corral-fleet-reload-'));

/** Writes the config file, HUPs, and waits for the new generation to serve. */
async function reloadWith(corral: CorralProcess, cwd: string, config: string) {
  writeFileSync(join(cwd, 'corral.config.mjs'), config);
  const from = corral.lines.length;
  corral.signal('SIGHUP');
  await corral.waitForLine(/\[INFO\] Reload complete: generation 2 serving/, { from, timeoutMs: 15_000 });
  return from;
}

const freshDir = (config: string) => {
  const dir = mkdtempSync(join(tmp, 'app-'));
  writeFileSync(join(dir, 'corral.config.mjs'), config);
  return dir;
};

test('HUP applies a --drain-delay set in the config file since start: the next TERM reports not ready for it first', async () => {
  const cwd = freshDir('export default { drainDelay: 0 };\n');
  const corral = startCorral(['-w', '1', '-b', '127.0.0.1:0', app], { cwd });
  try {
    await corral.ready();
    const from = await reloadWith(corral, cwd, 'export default { drainDelay: 60 };\n');
    corral.signal('SIGTERM');
    await corral.waitForLine(/\[INFO\] Reporting not ready; draining in 60 s/, { from });
    // A second TERM cuts the delay short: the stop is still clean.
    corral.signal('SIGTERM');
    const exit = await corral.waitForExit(10_000);
    assert.is(exit.code, 0, corral.output);
  } finally {
    await corral.stop();
  }
});

test('HUP applies a --drain-delay taken out of the config file: the next TERM drains at once', async () => {
  const cwd = freshDir('export default { drainDelay: 60 };\n');
  const corral = startCorral(['-w', '1', '-b', '127.0.0.1:0', app], { cwd });
  try {
    await corral.ready();
    await reloadWith(corral, cwd, 'export default {};\n');
    corral.signal('SIGTERM');
    const exit = await corral.waitForExit(10_000);
    assert.is(exit.code, 0, corral.output);
    assert.not.match(corral.output, /Reporting not ready/);
  } finally {
    await corral.stop();
  }
});

test('HUP applies a --max-memory set in the config file to the new generation of workers', async () => {
  const cwd = freshDir('export default {};\n');
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-t', '4', app], async (corral) => {
    const [url] = await corral.ready();
    const from = await reloadWith(corral, cwd, "export default { maxMemory: '120M' };\n");
    // Each /leak keeps 4 MB: the new worker passes 120 MB after some 15 of them.
    const over = /Replacing worker-2: it uses \d+ MB of memory, over --max-memory 120 MB/;
    for (let i = 0; i < 40 && !corral.lines.slice(from).some((line) => over.test(line)); i += 1) {
      assert.is((await request(url, { path: '/leak' })).status, 200);
      if (i > 15) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await corral.waitForLine(over, { from });
  }, { cwd });
});

test('HUP applies a --request-timeout set in the config file to the new generation of workers', async () => {
  const cwd = freshDir('export default {};\n');
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const [first] = corral.workerPids();
    assert.is((await request(url, { path: '/wait?ms=800' })).body, 'waited 800', 'no timeout before the reload');
    const from = await reloadWith(corral, cwd, 'export default { requestTimeout: 0.3 };\n');
    // Only the new generation serves from here.
    await waitUntil(() => !isAlive(first), { what: 'the old worker to leave' });
    const timedOut = await request(url, { path: '/wait?ms=3000' });
    assert.is(timedOut.status, 503);
    await corral.waitForLine(/\[WARNING\] Request timed out after 0.3 s: GET \/wait \(answered 503\)/, { from });
  }, { cwd });
});

test('HUP that sets --request-timeout for a kind that ignores it says so', async () => {
  const cwd = freshDir('export default {};\n');
  await withCorral(['-k', 'sync', '-w', '1', '-b', '127.0.0.1:0', app], async (corral) => {
    await corral.ready();
    const from = await reloadWith(corral, cwd, 'export default { requestTimeout: 5 };\n');
    await corral.waitForLine(/\[WARNING\] --request-timeout applies to the async kind only; -k sync ignores it/, { from });
  }, { cwd });
});

test('HUP with a --max-memory that is not a size: the reload fails saying why, the current worker serves on, a fixed config reloads', async () => {
  const cwd = freshDir("export default { maxMemory: '400M' };\n");
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', app], async (corral) => {
    const [url] = await corral.ready();
    const [first] = corral.workerPids();
    writeFileSync(join(cwd, 'corral.config.mjs'), "export default { maxMemory: 'lots' };\n");
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    await corral.waitForLine(/\[ERROR\] Reload failed, keeping the current workers: .*maxMemory.*'lots' is not a size/, { from });
    assert.is((await request(url)).body, String(first));
    assert.is(corral.workerPids().length, 1, 'no new worker was started');
    await reloadWith(corral, cwd, "export default { maxMemory: '300M' };\n");
  }, { cwd });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
