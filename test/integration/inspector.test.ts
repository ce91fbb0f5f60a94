// The inspector page in a real headless Chromium (the one shipped inside the
// @sparticuz/chromium package, so no download is needed) against a running
// corral: workers appear serving, `corral ctl scale 3` adds one, a kill -9 turns
// a worker's chart to dead and a replacement appears. A screenshot is saved in
// test-output/. No browser is a failure, not a skip.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocketServer } from 'ws';
import { launchBrowser, waitFor } from '../helpers/browser.js';
import { CLI, REPO_ROOT, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-inspector-'));
const env = { XDG_RUNTIME_DIR: tmp };
const app = join(REPO_ROOT, 'examples/test.js');
const OUTPUT = join(REPO_ROOT, 'test-output');

/** A worker card as the page draws it (the tests compile without the DOM's types). */
type Card = { dataset: Record<string, string | undefined> };

const serving = (page: Page) =>
  page.$$eval('.worker:not([data-gone])', (cards) => cards.filter((card) => (card as unknown as Card).dataset.state?.startsWith('serving')).map((card) => Number((card as unknown as Card).dataset.pid)));

test('the page follows the workers live: 2 serving, scale to 3, a kill -9 goes dead and is replaced', async () => {
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', '-n', 'seen', app], async (corral) => {
      const [appUrl] = await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(match[1]);

      const first = await waitFor('2 serving workers', () => serving(page), (pids) => pids.length === 2);
      assert.equal(first.sort(), corral.workerPids().sort());
      assert.ok(await page.$('#arbiter .state.active[data-path="serving.steady"]'), 'the arbiter chart lights serving.steady');

      const scaled = spawnSync(process.execPath, [CLI, 'ctl', 'scale', '3', '--name', 'seen'], { env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.is(scaled.status, 0, scaled.stderr);
      await waitFor('3 serving workers', () => serving(page), (pids) => pids.length === 3);

      const [victim] = first;
      process.kill(victim, 'SIGKILL');
      await waitFor(`worker ${victim} dead`, () => page.$$eval(`.worker[data-pid="${victim}"][data-gone]`, (cards) => cards.map((card) => (card as unknown as Card).dataset.state)), (states) => states[0] === 'dead');
      const after = await waitFor('a replacement serving', () => serving(page), (pids) => pids.length === 3 && !pids.includes(victim));
      assert.ok(after.some((pid) => !first.includes(pid)), 'a new pid serves');
      const log = await page.$eval('#log', (list) => list.textContent ?? '');
      assert.match(log, new RegExp(`\\(pid ${victim}\\) was killed by SIGKILL`));
      assert.match(log, /scale to 3 worker\(s\)/);

      await request(appUrl);
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'inspector.png') });
      assert.equal(errors, [], 'no script error on the page');
    }, { env });
  } finally {
    await browser.close();
  }
});

test('off loopback the inspector wants its token (which `corral ctl inspector` gives)', async () => {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--inspector', '0.0.0.0:0', '-n', 'tokened', app], async (corral) => {
    await corral.ready();
    await corral.waitForLine(/\[INFO\] Inspector: http:\/\/0\.0\.0\.0:\d+\/\?token=… /);
    await corral.waitForLine(/\[INFO\] Control socket: /);
    const asked = spawnSync(process.execPath, [CLI, 'ctl', 'inspector', '--name', 'tokened'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const match = /^http:\/\/0\.0\.0\.0:(\d+)\/\?token=([0-9a-f]{32})$/.exec(asked.stdout.trim());
    assert.ok(match, asked.stdout + asked.stderr);
    const base = `http://127.0.0.1:${match[1]}`;
    assert.is((await request(base, { path: '/' })).status, 403);
    assert.is((await request(base, { path: '/charts?token=wrong' })).status, 403);
    const page = await request(base, { path: `/?token=${match[2]}` });
    assert.is(page.status, 200);
    assert.match(page.body, /<title>corral inspector<\/title>/);
    assert.not.match(page.body, /https?:\/\/(?!www\.w3\.org)/, 'nothing is loaded from elsewhere');
    const charts = JSON.parse((await request(base, { path: `/charts?token=${match[2]}` })).body);
    assert.equal(charts.arbiter.root.children.map((state: { key: string }) => state.key), ['booting', 'serving', 'delayingDrain', 'draining', 'dead']);
  }, { env });
});

test("--inspector-stately ws://…: the same inspection events reach a WebSocket receiver through @statelyai/inspect", async () => {
  const received: { type?: string; sessionId?: string; snapshot?: { value?: unknown } }[] = [];
  const receiver = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => receiver.once('listening', resolve));
  receiver.on('connection', (socket) => socket.on('message', (data) => received.push(JSON.parse(String(data)))));
  try {
    const { port } = receiver.address() as AddressInfo;
    await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--no-control-socket', '--inspector-stately', `ws://127.0.0.1:${port}`, app], async (corral) => {
      await corral.ready();
      await corral.waitForLine(/Inspection events also go to Stately's inspector \(ws:/);
      await waitFor('a snapshot of the arbiter serving', async () => received, (events) =>
        events.some((event) => event.type === '@xstate.snapshot' && JSON.stringify(event.snapshot?.value) === '{"serving":"steady"}'));
    }, { env });
  } finally {
    for (const client of receiver.clients) client.terminate();
    receiver.close();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
