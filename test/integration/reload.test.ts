// HUP under load: a rolling reload loads new code and fails no request; a broken new
// generation leaves the old one serving. TTIN/TTOU change the pool through the real CLI.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-reload-'));
const appFile = join(tmp, 'app.mjs');
const writeApp = (version: string) =>
  writeFileSync(appFile, `export default (req, res) => res.end('${version}');\n`);

test('HUP under keep-alive load: new code is served, old workers leave, no request fails', async () => {
  writeApp('v1');
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', 'app.mjs'], async (corral) => {
    const [url] = await corral.ready();
    const oldWorkers = corral.workerPids();
    const load = startLoad(url, { clients: 8 });
    await waitUntil(() => load.result.ok > 200, { what: 'load to be flowing' });
    writeApp('v2');
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    await corral.waitForLine(/\[INFO\] Reload complete: generation 2 serving/, { from, timeoutMs: 15_000 });
    await waitUntil(() => oldWorkers.every((pid) => !isAlive(pid)), { timeoutMs: 10_000, what: 'old workers to exit' });
    const seenV2 = load.result.bodies.get('v2') ?? 0;
    await waitUntil(() => (load.result.bodies.get('v2') ?? 0) > seenV2 + 200, { what: 'more v2 responses' });
    const result = await load.stop();
    assert.equal(result.failures, [], `${result.failures.length} of ${result.sent} failed`);
    assert.ok((result.bodies.get('v1') ?? 0) > 0 && (result.bodies.get('v2') ?? 0) > 0);
    assert.is((await request(url)).body, 'v2');
    assert.is(corral.liveWorkerPids().length, 2);
  }, { cwd: tmp });
});

test('HUP with an app that no longer loads: the previous workers keep serving, nothing fails', async () => {
  writeApp('good');
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', 'app.mjs'], async (corral) => {
    const [url] = await corral.ready();
    const workers = corral.workerPids();
    const load = startLoad(url, { clients: 4 });
    await waitUntil(() => load.result.ok > 100, { what: 'load to be flowing' });
    writeFileSync(appFile, "throw new Error('half-deployed release');\n");
    corral.signal('SIGHUP');
    await corral.waitForLine(/\[ERROR\] Reload failed, the previous workers keep serving: .*half-deployed release/, { timeoutMs: 15_000 });
    const result = await load.stop();
    assert.equal(result.failures, []);
    assert.is((await request(url)).body, 'good');
    assert.ok(workers.every(isAlive), 'the original workers are still up');
    assert.ok(isAlive(corral.pid));
  }, { cwd: tmp });
});

test('TTIN adds a worker and TTOU removes the oldest, through signals to the arbiter', async () => {
  writeApp('scaled');
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', 'app.mjs'], async (corral) => {
    await corral.ready();
    const [first] = corral.workerPids();
    corral.signal('SIGTTIN');
    await waitUntil(() => corral.liveWorkerPids().length === 2, { what: 'a second worker' });
    corral.signal('SIGTTOU');
    await waitUntil(() => !isAlive(first), { what: 'the oldest worker to leave' });
    await waitUntil(() => corral.liveWorkerPids().length === 1, { what: 'one worker' });
    corral.signal('SIGTTOU');
    await corral.waitForLine(/Handling signal: ttou/, { from: corral.lines.findIndex((line) => line.includes('ttou')) + 1 });
    assert.is(corral.liveWorkerPids().length, 1, 'never below one');
  }, { cwd: tmp });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
