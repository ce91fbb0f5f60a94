// The inspector's numbers and charts in a real headless Chromium against a
// running corral: the requests-per-second figure against a load of known pace,
// every transition of every chart drawn.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, withCorral } from '../helpers/corral-process.js';
import { launchBrowser, waitFor } from '../helpers/browser.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-inspector-live-'));
const env = { XDG_RUNTIME_DIR: tmp };
const app = join(REPO_ROOT, 'examples/test.js');
const OUTPUT = join(REPO_ROOT, 'test-output');

/** Requests at a fixed pace (one every 1000/perSecond ms), each on its own connection; the moment each answer came back. */
function pacedLoad(url: string, perSecond: number) {
  const answered: number[] = [];
  const failures: string[] = [];
  const timer = setInterval(() => {
    request(url).then(
      (response) => (response.status === 200 ? answered.push(Date.now()) : failures.push(`status ${response.status}`)),
      (error: Error) => failures.push(error.message),
    );
  }, 1000 / perSecond);
  return {
    answered,
    failures,
    /** Answers per second over the last windowMs. */
    rate: (windowMs: number) => answered.filter((at) => at > Date.now() - windowMs).length / (windowMs / 1000),
    stop: () => clearInterval(timer),
  };
}

test('requests per second: the page shows the pace of a steady load within 10 %, over a 5 s window, with axes', async () => {
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', app], async (corral) => {
      const [appUrl] = await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.setViewport({ width: 1280, height: 800 });
      await page.goto(match[1]);
      const shown = () => page.$eval('#rate', (node) => Number((node as unknown as { dataset: { rate: string } }).dataset.rate));

      const load = pacedLoad(appUrl, 40);
      try {
        // Five seconds of load fill the window, and one more lets the last heartbeats arrive.
        await new Promise((resolve) => setTimeout(resolve, 6_500));
        const readings: { shown: number; generated: number }[] = [];
        for (let i = 0; i < 3; i++) {
          readings.push({ shown: await shown(), generated: load.rate(5_000) });
          await new Promise((resolve) => setTimeout(resolve, 700));
        }
        for (const { shown, generated } of readings) {
          assert.ok(Math.abs(shown - generated) <= generated * 0.1, `shown ${shown} req/s, generated ${generated} req/s: ${JSON.stringify(readings)}`);
        }
        assert.equal(load.failures, []);
      } finally {
        load.stop();
      }
      // The chart has its axes: a labelled rate scale and time marks up to now.
      const labels = await page.$$eval('#rps text', (texts) => texts.map((text) => text.textContent));
      assert.ok(labels.includes('now'), JSON.stringify(labels));
      assert.ok(labels.includes('−1 min'), JSON.stringify(labels));
      assert.ok(labels.includes('0.0'), JSON.stringify(labels));
      assert.ok(labels.some((label) => /^\d+$/.test(label ?? '') && Number(label) >= 40), `a rate scale reaching the load: ${JSON.stringify(labels)}`);
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'inspector-rates.png') });
      assert.equal(errors, [], 'no script error on the page');
    }, { env });
  } finally {
    await browser.close();
  }
});

type Edge = { from: string; to: string; label: string };
/** The exits drawn inside `scope`, as from → to: label (the tests compile without the DOM's types). */
const drawnEdges = (page: Page, scope: string, which = '.edge') =>
  page.$$eval(`${scope} ${which}`, (items) => items.map((item) => {
    const { from, to, label } = (item as unknown as { dataset: Record<string, string> }).dataset;
    return `${from} → ${to}: ${label}`;
  }));
const edgeText = (edge: Edge) => `${edge.from} → ${edge.to}: ${edge.label}`;

test('every transition of the arbiter and worker charts is drawn, and the one last taken is marked', async () => {
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', app], async (corral) => {
      await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const charts = JSON.parse((await request(match[1], { path: '/charts' })).body) as Record<'arbiter' | 'workerHandle', { edges: Edge[] }>;
      assert.ok(charts.arbiter.edges.length > 5 && charts.workerHandle.edges.length > 5);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.setViewport({ width: 1280, height: 800 });
      await page.goto(match[1]);
      const [victim, other] = corral.workerPids();
      const card = (pid: number) => `.worker[data-pid="${pid}"]`;
      await waitFor('both workers serving', () => page.$$eval('.worker[data-state="serving.live"]', (cards) => cards.length), (count) => count === 2);

      assert.equal((await drawnEdges(page, '#arbiter')).sort(), charts.arbiter.edges.map(edgeText).sort());
      assert.equal((await drawnEdges(page, card(victim))).sort(), charts.workerHandle.edges.map(edgeText).sort());
      assert.equal(await drawnEdges(page, '#arbiter', '.edge.taken'), ['arbiter.booting → arbiter.serving: bindListeners done']);
      assert.equal(await drawnEdges(page, card(victim), '.edge.taken'), ['workerHandle.booting → workerHandle.serving: MSG.ready']);

      process.kill(victim, 'SIGKILL');
      await waitFor(`worker ${victim} dead, its exit marked`, () => drawnEdges(page, `${card(victim)}[data-gone]`, '.edge.taken'), (taken) => taken.length > 0);
      assert.equal(await drawnEdges(page, card(victim), '.edge.taken'), ['workerHandle.serving → workerHandle.dead: PROCESS.EXITED']);
      assert.equal(await drawnEdges(page, card(other), '.edge.taken'), ['workerHandle.booting → workerHandle.serving: MSG.ready'], 'the other worker did not move');
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'inspector-transitions.png'), fullPage: true });
      assert.equal(errors, [], 'no script error on the page');
    }, { env });
  } finally {
    await browser.close();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
