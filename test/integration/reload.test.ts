// HUP under load: a rolling reload loads new code and fails no request; a broken new
// generation leaves the old one serving. TTIN/TTOU change the pool through the real CLI.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isAlive, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
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

test('--max-requests under keep-alive load: workers are replaced and no request fails', async () => {
  writeApp('recycled');
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--max-requests', '300', '--max-requests-jitter', '50', 'app.mjs'], async (corral) => {
    const [url] = await corral.ready();
    const first = corral.workerPids();
    const load = startLoad(url, { clients: 6 });
    await waitUntil(() => first.every((pid) => !isAlive(pid)) && corral.workerPids().length >= 4, {
      timeoutMs: 20_000,
      what: 'both original workers to be replaced',
    });
    const result = await load.stop();
    assert.equal(result.failures, [], `${result.failures.length} of ${result.sent} failed`);
    assert.match(corral.output, /served \d+ requests \(max \d+\); asking to be replaced/);
    // The last one replaced may still be finishing its idle keep-alive connections.
    await waitUntil(() => corral.liveWorkerPids().length === 2, { what: 'two workers once the load stopped' });
  }, { cwd: tmp });
});

test('--reload: editing the app rolls the workers onto the new code', async () => {
  writeApp('before edit');
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--reload', 'app.mjs'], async (corral) => {
    const [url] = await corral.ready();
    assert.is((await request(url)).body, 'before edit');
    const oldWorkers = corral.workerPids();
    const from = corral.lines.length;
    writeApp('after edit');
    await corral.waitForLine(/app\.mjs changed; reloading/, { from });
    await corral.waitForLine(/Reload complete: generation 2 serving/, { from, timeoutMs: 15_000 });
    // An old worker accepts until its drain message has reached it: wait until they are gone.
    await waitUntil(() => oldWorkers.every((pid) => !isAlive(pid)), { timeoutMs: 10_000, what: 'the old workers to drain' });
    assert.is((await request(url)).body, 'after edit');
  }, { cwd: tmp });
});

// Editors save by writing a temporary file and renaming it over the old one (vim, `sed -i`, `git checkout`).
const saveAtomically = (file: string, text: string, temporary: string) => {
  writeFileSync(join(tmp, temporary), text);
  renameSync(join(tmp, temporary), file);
};

test('--reload: every atomic save reloads, not only the first; a new file in a new directory counts too', async () => {
  writeApp('v1');
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--reload', 'app.mjs'], async (corral) => {
    const [url] = await corral.ready();
    // A dot-file temporary as vim writes, a plain one as sed -i does.
    const temporaries = ['.app.mjs.swp', 'sedX1b2c3', '.app.mjs.swp', 'sedQ9r8s7'];
    for (const [index, temporary] of temporaries.entries()) {
      const version = `v${index + 2}`;
      const from = corral.lines.length;
      saveAtomically(appFile, `export default (req, res) => res.end('${version}');\n`, temporary);
      await corral.waitForLine(/app\.mjs changed; reloading/, { from });
      await corral.waitForLine(new RegExp(`Reload complete: generation ${index + 2} serving`), { from, timeoutMs: 15_000 });
      await waitUntil(async () => (await request(url)).body === version, { timeoutMs: 10_000, what: `${version} to be served` });
    }
    const from = corral.lines.length;
    mkdirSync(join(tmp, 'routes'));
    writeFileSync(join(tmp, 'routes', 'users.mjs'), 'export const users = [];\n');
    await corral.waitForLine(/routes\/users\.mjs changed; reloading/, { from });
    await corral.waitForLine(/Reload complete: generation 6 serving/, { from, timeoutMs: 15_000 });
    // And the new directory's files stay watched through atomic saves as well.
    const again = corral.lines.length;
    saveAtomically(join(tmp, 'routes', 'users.mjs'), "export const users = ['ada'];\n", 'routes/.users.mjs.swp');
    await corral.waitForLine(/routes\/users\.mjs changed; reloading/, { from: again });
    await corral.waitForLine(/Reload complete: generation 7 serving/, { from: again, timeoutMs: 15_000 });
    // A directory removed and made again at once (a branch switch) is watched anew: its inode is often the same.
    // The arbiter is paused meanwhile, so that it reads every event of it only once the new directory is there.
    const remade = corral.lines.length;
    process.kill(corral.pid, 'SIGSTOP');
    try {
      rmSync(join(tmp, 'routes'), { recursive: true });
      mkdirSync(join(tmp, 'routes'));
      writeFileSync(join(tmp, 'routes', 'users.mjs'), "export const users = ['grace'];\n");
    } finally {
      process.kill(corral.pid, 'SIGCONT');
    }
    await corral.waitForLine(/Reload complete: generation 8 serving/, { from: remade, timeoutMs: 15_000 });
    const last = corral.lines.length;
    saveAtomically(join(tmp, 'routes', 'users.mjs'), "export const users = ['edsger'];\n", 'routes/.users.mjs.swp');
    await corral.waitForLine(/routes\/users\.mjs changed; reloading/, { from: last });
    await corral.waitForLine(/Reload complete: generation 9 serving/, { from: last, timeoutMs: 15_000 });
  }, { cwd: tmp });
});

test('--reload-extra-file: a watched file outside the app tree reloads on every atomic save too', async () => {
  writeApp('v1');
  const extra = mkdtempSync(join(tmpdir(), 'corral-reload-extra-'));
  const settingsFile = join(extra, 'settings.json');
  writeFileSync(settingsFile, '{"n":0}\n');
  try {
    await withCorral(['-b', '127.0.0.1:0', '--reload', '--reload-extra-file', settingsFile, 'app.mjs'], async (corral) => {
      await corral.ready();
      for (const n of [1, 2, 3]) {
        const from = corral.lines.length;
        writeFileSync(join(extra, `settings.json.${n}.tmp`), `{"n":${n}}\n`);
        renameSync(join(extra, `settings.json.${n}.tmp`), settingsFile);
        await corral.waitForLine(/settings\.json changed; reloading/, { from });
        await corral.waitForLine(new RegExp(`Reload complete: generation ${n + 1} serving`), { from, timeoutMs: 15_000 });
      }
    }, { cwd: tmp });
  } finally {
    rmSync(extra, { recursive: true, force: true });
  }
});

test('--preload: a broken app stops corral with exit 4 before any worker starts', async () => {
  writeFileSync(appFile, "throw new Error('missing STRIPE_KEY');\n");
  const corral = startCorral(['-w', '2', '-b', '127.0.0.1:0', '--preload', 'app.mjs'], { cwd: tmp });
  try {
    assert.is((await corral.waitForExit()).code, 4);
    assert.match(corral.output, /\[ERROR\] App failed to load\. App module 'app\.mjs' .* failed to import: Error: missing STRIPE_KEY/);
    assert.equal(corral.workerPids(), []);
  } finally {
    await corral.stop();
  }
  writeApp('preloaded');
  await withCorral(['-b', '127.0.0.1:0', '--preload', 'app.mjs'], async (corral) => {
    const [url] = await corral.ready();
    assert.match(corral.output, /Preloaded app app\.mjs/);
    assert.is((await request(url)).body, 'preloaded');
  }, { cwd: tmp });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
