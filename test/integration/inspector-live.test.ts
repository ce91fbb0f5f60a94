// The inspector's numbers and charts in a real headless Chromium against a
// running corral: the requests-per-second figure against a load of known pace,
// every transition of every chart drawn.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, fixture, withCorral } from '../helpers/corral-process.js';
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
      const { page, errors } = await openPage(browser, match[1]);
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

/** Clicks in one step inside the page: the table and the log are redrawn at every update, so a handle found first may be gone by the click. */
/** The inspector at `url` in a new 1280×800 page, with the page's script errors collected. */
async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(url);
  return { page, errors };
}

const clickNow = (page: Page, selector: string) => page.$eval(selector, (element) => (element as unknown as { click(): void }).click());

type Edge = { from: string; to: string; label: string };
type Card = { dataset: Record<string, string | undefined> };
/** The exits drawn inside `scope`, as from → to: label (the tests compile without the DOM's types). */
const drawnEdges = (page: Page, scope: string, which = '.edge') =>
  page.$$eval(`${scope} ${which}`, (items) => items.map((item) => {
    const { from, to, label } = (item as unknown as { dataset: Record<string, string> }).dataset;
    return `${from} → ${to}: ${label}`;
  }));
const edgeText = (edge: Edge) => `${edge.from} → ${edge.to}: ${edge.label}`;

/**
 * The arrows drawn in `scope`'s chart, each as from → to: label, checked as a picture: a path with
 * an arrowhead, from the border of its source state's box to the border of its target's, and a
 * label that reads as the edge's. What is wrong is returned as `problems`.
 */
const drawnArrows = (page: Page, scope: string) =>
  page.$eval(scope, (host) => {
    type Rect = { x: number; y: number; width: number; height: number };
    type Point = { x: number; y: number };
    const dom = host as unknown as {
      querySelector(selector: string): any;
      querySelectorAll(selector: string): any[];
      ownerDocument: { getElementById(id: string): unknown };
    };
    const box = (id: string): Rect | undefined => {
      const rect = dom.querySelector(`g.state[data-id="${id}"] > rect`);
      return rect ? { x: Number(rect.getAttribute('x')), y: Number(rect.getAttribute('y')), width: Number(rect.getAttribute('width')), height: Number(rect.getAttribute('height')) } : undefined;
    };
    const offBorder = (rect: Rect, point: Point) => {
      const dx = Math.max(rect.x - point.x, 0, point.x - (rect.x + rect.width));
      const dy = Math.max(rect.y - point.y, 0, point.y - (rect.y + rect.height));
      const outside = Math.hypot(dx, dy);
      return outside > 0 ? outside : Math.min(point.x - rect.x, rect.x + rect.width - point.x, point.y - rect.y, rect.y + rect.height - point.y);
    };
    const arrows: string[] = [];
    const problems: string[] = [];
    for (const edge of dom.querySelectorAll('g.edge')) {
      const { from, to, label, i } = edge.dataset as Record<string, string>;
      const name = `${from} → ${to}: ${label}`;
      arrows.push(name);
      const path = edge.querySelector('path');
      const marker = /^url\(#(.+)\)$/.exec(path?.getAttribute('marker-end') ?? '')?.[1];
      if (!path || !marker || !dom.ownerDocument.getElementById(marker)) problems.push(`${name}: no path with an arrowhead`);
      if (!path) continue;
      const length = path.getTotalLength();
      const start = path.getPointAtLength(0);
      const end = path.getPointAtLength(length);
      const source = box(from);
      const target = box(to);
      if (!source || !target) problems.push(`${name}: no box for an end`);
      else if (length < 8) problems.push(`${name}: ${length} px long`);
      else {
        if (offBorder(source, start) > 1.5) problems.push(`${name}: starts ${offBorder(source, start).toFixed(1)} px off its source's border`);
        if (offBorder(target, end) > 1.5) problems.push(`${name}: ends ${offBorder(target, end).toFixed(1)} px off its target's border`);
      }
      const text = dom.querySelector(`text.edge-label[data-i="${i}"]`);
      if (!text || [...text.querySelectorAll('tspan')].map((line: { textContent: string }) => line.textContent).join(' ') !== label) problems.push(`${name}: labelled ${JSON.stringify(text?.textContent)}`);
    }
    return { arrows, problems };
  });

test('every transition of the arbiter and worker charts is drawn, and the one last taken is marked', async () => {
  const bootGate = join(tmp, 'boot-gate');
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', fixture('gated-boot-app.js')], async (corral) => {
      await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const charts = JSON.parse((await request(match[1], { path: '/charts' })).body) as Record<'arbiter' | 'workerHandle', { edges: Edge[] }>;
      assert.ok(charts.arbiter.edges.length > 5 && charts.workerHandle.edges.length > 5);
      const { page, errors } = await openPage(browser, match[1]);
      const [victim, other] = corral.workerPids();
      const card = (pid: number) => `.worker[data-pid="${pid}"]`;
      await waitFor('both workers serving', () => page.$$eval('.worker[data-state="serving.live"]', (cards) => cards.length), (count) => count === 2);

      assert.equal((await drawnEdges(page, '#arbiter')).sort(), charts.arbiter.edges.map(edgeText).sort());
      const arbiterArrows = await drawnArrows(page, '#arbiter');
      assert.equal(arbiterArrows.arrows.sort(), charts.arbiter.edges.map(edgeText).sort(), 'an arrow for every edge of the arbiter chart');
      assert.equal(arbiterArrows.problems, []);
      assert.ok(await page.$('#arbiter g.state.active[data-path="serving.steady"] > rect'), 'the arbiter chart lights serving.steady');
      await clickNow(page, card(victim));
      await waitFor(`the chart of ${victim} beside the table`, () => page.$eval('#selected-title', (title) => title.textContent ?? ''), (title) => title.includes(`pid ${victim}`));
      assert.equal((await drawnEdges(page, '#selected')).sort(), charts.workerHandle.edges.map(edgeText).sort());
      const workerArrows = await drawnArrows(page, '#selected');
      assert.equal(workerArrows.arrows.sort(), charts.workerHandle.edges.map(edgeText).sort(), 'an arrow for every edge of the worker chart');
      assert.equal(workerArrows.problems, []);
      assert.equal(await page.$$eval('#selected g.state.active', (nodes) => nodes.map((node) => (node as unknown as Card).dataset.path).sort()), ['serving', 'serving.live']);
      assert.equal(await drawnEdges(page, '#arbiter', '.edge.taken'), ['arbiter.booting → arbiter.serving: bindListeners done']);
      assert.equal(await drawnEdges(page, '#selected', '.edge.taken'), ['workerHandle.booting → workerHandle.serving: MSG.ready']);

      process.kill(victim, 'SIGKILL');
      await waitFor(`worker ${victim} dead, its exit marked`, () => drawnEdges(page, '#selected', '.edge.taken'), (taken) => taken[0]?.endsWith('PROCESS.EXITED'));
      assert.equal(await drawnEdges(page, '#selected', '.edge.taken'), ['workerHandle.serving → workerHandle.dead: PROCESS.EXITED']);
      assert.ok(await page.$(`${card(victim)}[data-gone][data-selected]`), 'the dead worker stays selected');
      await clickNow(page, card(other));
      await waitFor(`the chart of ${other}`, () => page.$eval('#selected-title', (title) => title.textContent ?? ''), (title) => title.includes(`pid ${other}`));
      assert.equal(await drawnEdges(page, '#selected', '.edge.taken'), ['workerHandle.booting → workerHandle.serving: MSG.ready'], 'the other worker did not move');
      assert.equal(await page.$$eval('#selected .edge.taken path', (paths) => paths.map((path) => path.getAttribute('marker-end'))), ['url(#arrow-worker-taken)'], 'the arrow taken has its own arrowhead');

      // A HUP rolls the workers: the arbiter's arrow last taken is the one that ends the roll (and only it,
      // though another arrow leaves rolling for steady on the event that was being handled).
      // The new workers wait at import while the gate stands, so the roll lasts until the page has been read.
      writeFileSync(bootGate, '');
      corral.signal('SIGHUP');
      // While the new workers boot, the arrow into rolling is marked: the one of the
      // two on `reloadConfig done` whose guard held (the count of workers did not change), not both.
      const rolling = await waitFor('the config re-read, rolling', () => drawnEdges(page, '#arbiter', '.edge.taken'), (taken) => taken.some((edge) => edge.includes('reloadConfig done')), 30_000);
      assert.equal(rolling, ['arbiter.serving.reloading.rereading → arbiter.serving.reloading.rolling: reloadConfig done']);
      rmSync(bootGate);
      await waitFor('the reload rolled, its last arrow marked', () => drawnEdges(page, '#arbiter', '.edge.taken'), (taken) => taken.some((edge) => edge.includes('rollingDone')), 30_000);
      assert.equal(await drawnEdges(page, '#arbiter', '.edge.taken'), ['arbiter.serving.reloading.rolling → arbiter.serving.steady: always [rollingDone]']);
      assert.ok(await page.$('#arbiter g.state.active[data-path="serving.steady"]'));
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'inspector-transitions.png'), fullPage: true });
      assert.equal(errors, [], 'no script error on the page');
    }, { env: { ...env, BOOT_GATE: bootGate } });
  } finally {
    rmSync(bootGate, { force: true });
    await browser.close();
  }
});

/** The table's rows, each as column → text. */
const tableRows = (page: Page) =>
  page.$$eval('#workers tbody tr', (rows) => rows.map((row) => {
    const cells: Record<string, string> = {};
    for (const cell of (row as unknown as { querySelectorAll(selector: string): { dataset: { col: string }; textContent: string }[] }).querySelectorAll('td')) cells[cell.dataset.col] = cell.textContent;
    return cells;
  }));
const summary = (page: Page, id: string) => page.$eval(`#sum-${id}`, (item) => item.textContent ?? '');

test('the table: a row a worker with its numbers, 4xx/5xx counted, CPU for workers and arbiter, restarts by cause', async () => {
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', fixture('app.js')], async (corral) => {
      const [appUrl] = await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const { page, errors } = await openPage(browser, match[1]);
      await waitFor('two heartbeats from each worker, for a CPU share', () => tableRows(page), (rows) => rows.length === 2 && rows.every((row) => row.cpu !== '–'));
      for (let i = 0; i < 20; i++) assert.is((await request(appUrl)).status, 200);
      for (let i = 0; i < 7; i++) assert.is((await request(appUrl, { path: '/status?code=503' })).status, 503);
      for (let i = 0; i < 3; i++) assert.is((await request(appUrl, { path: '/status?code=404' })).status, 404);
      // Latency is read over the last 5 s: these requests are in it for a while.
      const rows = await waitFor('30 requests counted, with their latency', () => tableRows(page), (rows) => rows.reduce((sum, row) => sum + Number(row.served), 0) === 30 && rows.some((row) => row.p50 !== '–'));
      assert.equal(rows.map((row) => Number(row.pid)).sort(), corral.workerPids().sort());
      for (const row of rows) {
        assert.is(row.state, 'serving.live');
        assert.is(row.generation, '1');
        assert.is(row.inFlight, '0');
        assert.match(row.age, /^\d+ s$/);
        assert.match(row.rss, /^\d+ MB$/);
        assert.match(row.cpu, /^\d+(\.\d)? %$/, JSON.stringify(row));
        assert.match(row.lag, /^\d+\.\d ms$/);
      }
      assert.is(rows.reduce((sum, row) => sum + Number(row['5xx']), 0), 7);
      assert.is(rows.reduce((sum, row) => sum + Number(row['4xx']), 0), 3);
      assert.ok(rows.some((row) => /^\d+(\.\d)? ms$/.test(row.p50) && /^\d+(\.\d)? ms$/.test(row.p99)), JSON.stringify(rows));
      assert.is(await summary(page, '5xx'), '7');
      assert.is(await summary(page, '4xx'), '3');
      assert.match(await summary(page, 'arbiter-cpu'), /^\d+(\.\d)? %$/, await summary(page, 'arbiter-cpu'));
      assert.is(await summary(page, 'restarts'), '0');

      const [victim] = corral.workerPids();
      process.kill(victim, 'SIGKILL');
      await waitFor('a restart counted by its cause', () => summary(page, 'restarts'), (text) => text === '1 (1 SIGKILL)');
      assert.equal(errors, [], 'no script error on the page');
    }, { env });
  } finally {
    await browser.close();
  }
});

const rowsAsSeen = async (page: Page) => (await tableRows(page)).map((row) => `${row.id} ${row.pid} ${row.state} gen ${row.generation}`);

test('history: a line of the event log shows the whole picture as it was then, and steps through the changes', async () => {
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', '--inspector-history', '50', app], async (corral) => {
      await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const { page, errors } = await openPage(browser, match[1]);
      await waitFor('both workers serving', () => page.$$eval('.worker[data-state="serving.live"]', (rows) => rows.length), (count) => count === 2);
      const before = await rowsAsSeen(page);
      const arbiterBefore = await page.$eval('#arbiter', (node) => (node as unknown as { dataset: { state: string } }).dataset.state);
      const newest = () => page.$eval('#log li[data-seq]', (line) => Number((line as unknown as { dataset: { seq: string } }).dataset.seq));
      const then = await newest();

      const [victim] = corral.workerPids();
      process.kill(victim, 'SIGKILL');
      await waitFor(`${victim} dead and a replacement serving`, () => rowsAsSeen(page), (rows) => rows.some((row) => row.includes(`${victim} dead`)) && rows.filter((row) => row.includes('serving.live')).length === 2);

      // Back to the moment before the kill: the table and the charts as they were.
      await clickNow(page, `#log li[data-seq="${then}"]`);
      await waitFor('the replay bar', () => page.$eval('#replay', (bar) => (bar as unknown as { hidden: boolean; dataset: { seq?: string } }).hidden ? '' : bar.getAttribute('data-seq')), (seq) => seq === String(then));
      assert.equal(await rowsAsSeen(page), before);
      assert.is(await page.$eval('#arbiter', (node) => (node as unknown as { dataset: { state: string } }).dataset.state), arbiterBefore);
      assert.ok(await page.$(`#log li[data-seq="${then}"][data-shown]`), 'the line shown is marked');

      // Step forward through the changes until the kill shows, then one back.
      const seen: string[][] = [];
      for (let step = 0; step < 20; step++) {
        const seq = await page.$eval('#replay', (bar) => Number(bar.getAttribute('data-seq')));
        await page.click('#replay-next');
        await waitFor('the next moment', () => page.$eval('#replay', (bar) => Number(bar.getAttribute('data-seq'))), (next) => next === seq + 1);
        seen.push(await rowsAsSeen(page));
        if (seen[seen.length - 1].some((row) => row.includes(`${victim} dead`))) break;
      }
      assert.ok(seen[seen.length - 1].some((row) => row.includes(`${victim} dead`)), `stepping reaches the kill: ${JSON.stringify(seen)}`);
      await page.click('#replay-prev');
      await waitFor('one moment back', () => rowsAsSeen(page), (rows) => !rows.some((row) => row.includes(`${victim} dead`)));

      await page.click('#replay-live');
      await waitFor('live again', () => rowsAsSeen(page), (rows) => rows.some((row) => row.includes(`${victim} dead`)));
      assert.ok(await page.$eval('#replay', (bar) => (bar as unknown as { hidden: boolean }).hidden));
      mkdirSync(OUTPUT, { recursive: true });
      assert.equal(errors, [], 'no script error on the page');
    }, { env });
  } finally {
    await browser.close();
  }
});

test('the error log: its last lines, then new ones live, filtered by process; with the log on stderr, a note says why not', async () => {
  const browser = await launchBrowser();
  const logFile = join(tmp, 'error.log');
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', '--error-logfile', logFile, fixture('app.js')], async (corral) => {
      // The log goes to the file: the URLs and pids are read from there.
      const logged = await waitFor('ready, in the log file', async () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''), (text) => /\[INFO\] Ready: 2 worker/.test(text), 20_000);
      const appUrl = /Listening at: (\S+)/.exec(logged)![1];
      const inspectorLine = /\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(logged);
      const workerPids = [...logged.matchAll(/Booting worker with pid: (\d+)/g)].map((found) => Number(found[1]));
      const { page, errors } = await openPage(browser, inspectorLine![1]);
      const lines = () => page.$$eval('#errorlog li', (items) => items.map((item) => ({ pid: item.getAttribute('data-pid'), text: item.textContent ?? '' })));
      // Lines written before the page opened: the arbiter's start.
      await waitFor('the arbiter start in the tail', lines, (shown) => shown.some((line) => line.text.includes('[INFO] Inspector:') && line.pid === String(corral.pid)));

      const thrower = Number((await request(appUrl, { path: '/pid' })).body);
      const other = workerPids.find((pid) => pid !== thrower)!;
      // Requests land on either worker: throw until the one named has.
      await waitFor(`a handler error from ${thrower} in the tail`, async () => {
        const answer = await request(appUrl, { path: '/throw' }).catch(() => undefined);
        void answer;
        return lines();
      }, (shown) => shown.some((line) => line.text.includes('handler exploded') && line.pid === String(thrower)));

      const choose = async (pid: number | '') => {
        await page.select('#errorlog-filter', String(pid));
        return lines();
      };
      const theirs = await choose(thrower);
      assert.ok(theirs.length > 0 && theirs.every((line) => line.pid === String(thrower)), JSON.stringify(theirs));
      const options = await page.$$eval('#errorlog-filter option', (items) => items.map((item) => item.textContent));
      assert.ok(options.includes(`arbiter (pid ${corral.pid})`), JSON.stringify(options));
      assert.ok(options.some((option) => /^worker-\d+ \(pid \d+\)$/.test(option ?? '')), JSON.stringify(options));
      const others = await choose(other);
      assert.ok(others.every((line) => line.pid === String(other)), JSON.stringify(others));
      assert.ok((await choose('')).some((line) => line.pid === String(corral.pid)));
      assert.equal(errors, [], 'no script error on the page');
    }, { env });

    await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--inspector', '0', app], async (corral) => {
      await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const page = await browser.newPage();
      await page.goto(match[1]);
      await waitFor('the note', () => page.$eval('#errorlog-note', (note) => note.textContent ?? ''), (note) => note.includes('stderr'));
    }, { env });
  } finally {
    await browser.close();
  }
});

test('dropped connections: one closed at --worker-connections shows in its row and the totals', async () => {
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--worker-connections', '2', '--inspector', '0', fixture('app.js')], async (corral) => {
      const [appUrl] = await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const page = await browser.newPage();
      await page.goto(match[1]);
      const { hostname, port } = new URL(appUrl);
      const held = await Promise.all([1, 2].map(() => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(Number(port), hostname, () => resolve(socket));
      })));
      try {
        // Both held connections are served; a third is closed by the worker at once.
        for (const socket of held) {
          const answered = new Promise((resolve) => socket.once('data', resolve));
          socket.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
          await answered;
        }
        const third = net.connect(Number(port), hostname);
        third.on('error', () => {});
        await new Promise((resolve) => third.on('close', resolve));
        const [row] = await waitFor('the dropped connection counted', () => tableRows(page), (rows) => rows[0]?.dropped === '1');
        assert.is(row.pid, String(corral.workerPids()[0]));
        assert.is(await summary(page, 'dropped'), '1');
      } finally {
        held.forEach((socket) => socket.destroy());
      }
    });
  } finally {
    await browser.close();
  }
});

/** A raw POST to /action, as another page or a script would send it. */
const postAction = (base: string, body: unknown, headers: Record<string, string> = {}) =>
  request(base, { path: '/action', method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

test('connections the sync arbiter refuses: silent past --header-timeout and over --backlog, counted on the page and in /metrics', async () => {
  const browser = await launchBrowser();
  const sockets: net.Socket[] = [];
  try {
    await withCorral(['-k', 'sync', '-w', '1', '--backlog', '2', '--header-timeout', '1', '-b', '127.0.0.1:0', '--inspector', '0', '--metrics-bind', '127.0.0.1:0', app], async (corral) => {
      const [appUrl] = await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const metrics = (await corral.waitForLine(/Serving metrics at: (\S+)\/metrics$/)).match[1];
      const { page, errors } = await openPage(browser, match[1]);
      const refused = () => page.$eval('#sum-refused', (item) => item.textContent ?? '').catch(() => '');
      await waitFor('the count, at 0', refused, (text) => text === '0');

      // Two connections that say nothing fill --backlog 2; the third is closed at once.
      const { port } = new URL(appUrl);
      const open = () => new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
        sockets.push(socket);
      });
      const closed = (socket: net.Socket) => new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve)));
      const silent = [await open(), await open()];
      await corral.waitForLine(/Booting worker/);
      const shed = await open();
      await closed(shed);
      await corral.waitForLine(/Connection queue full \(2, --backlog\)/);
      // --header-timeout 1: the silent two are closed a second later.
      await Promise.all(silent.map(closed));
      await waitFor('3 refused on the page', refused, (text) => text === '3 (2 silent, 1 at backlog)');
      const scraped = (await request(metrics, { path: '/metrics' })).body;
      assert.match(scraped, /^corral_connections_refused_total\{reason="silent"\} 2$/m);
      assert.match(scraped, /^corral_connections_refused_total\{reason="backlog"\} 1$/m);
      assert.match(scraped, /^corral_connections_refused_total\{reason="stopping"\} 0$/m);
      // The server still serves.
      assert.is((await request(appUrl)).status, 200);
      assert.equal(errors, [], 'no script error on the page');
    }, { env });
  } finally {
    for (const socket of sockets) socket.destroy();
    await browser.close();
  }
});

/** The first error-log event of the inspector's stream that `ok` accepts. */
function errorLogEvent(base: string, ok: (batch: { unavailable?: string; lines: { text: string }[] }) => boolean): Promise<{ unavailable?: string; lines: { text: string }[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL('/events', base), (res) => {
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (const found of buffered.matchAll(/event: errorlog\ndata: (.*)\n\n/g)) {
          const batch = JSON.parse(found[1]);
          if (ok(batch)) {
            req.destroy();
            return resolve(batch);
          }
        }
      });
    });
    req.on('error', (error) => (error.message === 'socket hang up' ? undefined : reject(error)));
    setTimeout(() => {
      req.destroy();
      reject(new Error('no such error-log event within 10 s'));
    }, 10_000).unref();
  });
}

test('a HUP applies changed inspector settings: history, error-log lines, actions; a changed address is refused in the log', async () => {
  const dir = mkdtempSync(join(tmp, 'reload-'));
  const configFile = join(dir, 'corral.config.mjs');
  const logFile = join(dir, 'error.log');
  const config = (values: Record<string, unknown>) => writeFileSync(configFile, `export default ${JSON.stringify(values)};\n`);
  config({ inspector: '127.0.0.1:0', inspectorHistory: 5, inspectorLogLines: 0, inspectorActions: false });
  await withCorral(['-c', configFile, '-w', '1', '-b', '127.0.0.1:0', '--error-logfile', logFile, app], async (corral) => {
    const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    const started = await waitFor('ready, in the log file', async () => log(), (text) => /\[INFO\] Ready: 1 worker/.test(text), 20_000);
    const base = /\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(started)![1];
    const span = async () => {
      const { first, last } = JSON.parse((await request(base, { path: '/history?seq=1' })).body) as { first: number; last: number };
      return last - first + 1;
    };
    const session = async () => JSON.parse((await request(base, { path: '/session' })).body) as { actions: boolean; session: string };
    const scale = async (workers: number) => {
      const { session: token } = await session();
      return request(base, { path: '/action', method: 'POST', headers: { 'content-type': 'application/json', 'x-corral-session': token }, body: JSON.stringify({ action: 'scale', workers }) });
    };
    // Before: at most 5 moments, no error-log tail, no action.
    for (let i = 0; i < 4; i++) assert.is((await scale(2)).status, 403);
    assert.ok((await span()) <= 5);
    assert.equal((await session()).actions, false);
    assert.match((await errorLogEvent(base, () => true)).unavailable ?? '', /--inspector-log-lines 0/);

    config({ inspector: '127.0.0.1:1', inspectorHistory: 2, inspectorLogLines: 50, inspectorActions: true });
    corral.signal('SIGHUP');
    const reloaded = await waitFor('the reload applied', async () => log(), (text) => /Reload: the inspector/.test(text), 20_000);
    assert.match(reloaded, /\[INFO\] Reload: the inspector keeps 2 moment\(s\) to replay \(was 5\); shows 50 line\(s\) of the error log \(was 0\); allows actions now/);
    assert.match(reloaded, /\[WARNING\] Reload keeps the inspector at 127\.0\.0\.1:0; a changed --inspector \(127\.0\.0\.1:1\) takes a restart\./);
    // After: the same inspector (its address kept), 2 moments, the log's last lines, actions allowed.
    assert.ok((await span()) <= 2, 'history trimmed to 2 moments');
    const tail = await errorLogEvent(base, (batch) => batch.lines.length > 0);
    assert.ok(tail.lines.some((line) => line.text.includes('Reload: the inspector')), JSON.stringify(tail.lines.slice(-3)));
    assert.equal((await session()).actions, true);
    assert.is((await scale(2)).status, 200);
    await waitFor('2 workers booted', async () => log(), (text) => (text.match(/Booting worker with pid/g) ?? []).length >= 3, 20_000);

    // And back: actions off again take effect at once.
    config({ inspector: '127.0.0.1:0', inspectorHistory: 2, inspectorLogLines: 50, inspectorActions: false });
    corral.signal('SIGHUP');
    await waitFor('actions off again', async () => log(), (text) => /Reload: the inspector allows no action now/.test(text), 20_000);
    assert.is((await scale(1)).status, 403);
  }, { env });
});

test('actions: off by default (refused, nothing changes); with --inspector-actions, scale, reload and stop one worker from the page, behind a session token', async () => {
  const browser = await launchBrowser();
  try {
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', app], async (corral) => {
      await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const page = await browser.newPage();
      await page.goto(match[1]);
      await waitFor('both workers serving', () => page.$$eval('.worker[data-state="serving.live"]', (rows) => rows.length), (count) => count === 2);
      assert.ok(await page.$eval('#actions', (panel) => (panel as unknown as { hidden: boolean }).hidden), 'no actions on the page');
      const { session, actions } = JSON.parse((await request(match[1], { path: '/session' })).body);
      assert.is(actions, false);
      const refused = await postAction(match[1], { action: 'scale', workers: 3 }, { 'x-corral-session': session });
      assert.is(refused.status, 403);
      assert.match(refused.body, /--inspector-actions/);
      // A scale that went through would show at once in the number of workers the arbiter wants.
      const status = spawnSync(process.execPath, [CLI, 'ctl', 'status', '--json'], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
      assert.is(status.status, 0, status.stderr);
      assert.is(JSON.parse(status.stdout).arbiter.workers, 2, 'the arbiter still wants 2 workers');
      assert.is(await page.$$eval('.worker:not([data-gone])', (rows) => rows.length), 2, 'still 2 workers');
      assert.not.ok(corral.lines.some((line) => /by: inspector/.test(line)));
    }, { env });

    await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--inspector', '0', '--inspector-actions', app], async (corral) => {
      await corral.ready();
      const { match } = await corral.waitForLine(/\[INFO\] Inspector: (http:\/\/127\.0\.0\.1:\d+\/)$/);
      const base = match[1];
      // No state change on a GET, nor without the session token, nor with a wrong one, nor as a form.
      assert.is((await request(base, { path: '/action?action=scale&workers=3' })).status, 405);
      assert.is((await postAction(base, { action: 'scale', workers: 3 })).status, 403);
      assert.is((await postAction(base, { action: 'scale', workers: 3 }, { 'x-corral-session': 'f'.repeat(32) })).status, 403);
      const { session } = JSON.parse((await request(base, { path: '/session' })).body);
      const form = await request(base, { path: '/action', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-corral-session': session }, body: 'action=scale&workers=3' });
      assert.is(form.status, 415);
      assert.is((await postAction(base, { action: 'scale', workers: 0 }, { 'x-corral-session': session })).status, 400);
      // The favicon is there (no 404 in the browser's console).
      assert.is((await request(base, { path: '/favicon.ico' })).status, 200);

      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      const notFound: string[] = [];
      page.on('response', (response) => response.status() === 404 && notFound.push(response.url()));
      await page.setViewport({ width: 1280, height: 800 });
      await page.goto(base);
      const live = () => rowsAsSeen(page).then((rows) => rows.filter((row) => row.includes('serving.live')));
      await waitFor('both workers serving', live, (rows) => rows.length === 2);
      await waitFor('the actions shown', () => page.$eval('#actions', (panel) => (panel as unknown as { hidden: boolean }).hidden), (hidden) => !hidden);

      await page.type('#scale-to', '3');
      await page.click('#act-scale');
      await waitFor('3 workers serving', live, (rows) => rows.length === 3);
      await corral.waitForLine(/\[INFO\] Inspector: scale from 2 to 3 worker\(s\) \(by: inspector\)/);

      await page.click('#act-reload');
      // A reload re-reads the configuration: its -w 2 again.
      await waitFor('generation 2 serving', live, (rows) => rows.length === 2 && rows.every((row) => row.endsWith('gen 2')), 30_000);
      await corral.waitForLine(/\[INFO\] Inspector: rolling reload \(by: inspector\)/);

      const [victim] = await live();
      const [id, pid] = victim.split(' ');
      await clickNow(page, `.worker[data-id="${id}"]`);
      await waitFor('the stop button', () => page.$eval('#act-stop-worker', (button) => (button as unknown as { hidden: boolean }).hidden), (hidden) => !hidden);
      await page.click('#act-stop-worker');
      await waitFor(`${id} gone, replaced`, () => rowsAsSeen(page), (rows) => !rows.some((row) => row.startsWith(`${id} ${pid} serving`)) && rows.filter((row) => row.includes('serving.live')).length === 2, 20_000);
      await corral.waitForLine(new RegExp(`\\[INFO\\] Inspector: stop ${id} \\(a replacement boots first\\) \\(by: inspector\\)`));
      assert.match(await page.$eval('#log', (log) => log.textContent ?? ''), /by: inspector/);
      await page.screenshot({ path: join(OUTPUT, 'inspector-actions.png') });
      assert.equal(notFound, [], 'nothing the page asks for is missing');
      assert.equal(errors, [], 'no script error on the page');
    }, { env });
  } finally {
    await browser.close();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
