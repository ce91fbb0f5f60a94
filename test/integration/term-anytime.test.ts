// TERM at every point of the arbiter's lifecycle, under a keep-alive load where
// there is something to load: each time it is taken at once ("Handling signal:
// term"), the arbiter exits 0, and no worker is left behind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, isAlive, startCorral } from '../helpers/corral-process.js';
import { startRequest } from '../helpers/http.js';
import { startLoad } from '../helpers/load.js';

interface Point {
  name: string;
  args: string[];
  /** Under load unless false. */
  load?: boolean;
  /** Brings the arbiter to the point where TERM is sent. */
  reach(corral: CorralProcess, stopLoad: () => Promise<unknown>): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'corral-term-'));
// A reload whose config re-read takes a while: TERM arrives while the chart is in `reloading.rereading`.
const slowReload = join(dir, 'slow-reload.config.mjs');
writeFileSync(slowReload, 'export const onReload = () => new Promise((resolve) => setTimeout(resolve, 2000));\n');

const points: Point[] = [
  {
    name: 'while the first workers boot',
    args: ['-w', '2'],
    load: false,
    reach: async (corral) => void (await corral.waitForLine(/Booting worker with pid/)),
  },
  { name: 'serving under load', args: ['-w', '2'], reach: async () => {} },
  {
    name: 'right after a keep-alive load ends',
    args: ['-w', '2'],
    reach: async (_, stopLoad) => void (await stopLoad()),
  },
  {
    name: 'while a reload re-reads the config',
    args: ['-w', '2', '-c', slowReload],
    reach: async (corral) => {
      corral.signal('SIGHUP');
      await corral.waitForLine(/Handling signal: hup/);
    },
  },
  {
    name: 'while a reload rolls',
    args: ['-w', '2'],
    reach: async (corral) => {
      const from = corral.lines.length;
      corral.signal('SIGHUP');
      await corral.waitForLine(/Booting worker with pid/, { from });
    },
  },
  {
    name: 'while scaling up',
    args: ['-w', '2'],
    reach: async (corral) => {
      const from = corral.lines.length;
      corral.signal('SIGTTIN');
      await corral.waitForLine(/Booting worker with pid/, { from });
    },
  },
  {
    name: 'while a worker is being recycled (--max-requests)',
    args: ['-w', '2', '--max-requests', '200'],
    reach: async (corral) => void (await corral.waitForLine(/Replacing worker-\d+: it served/)),
  },
  {
    name: 'while workers crash in a loop (backing off)',
    args: ['-w', '1'],
    load: false,
    reach: async (corral) => void (await corral.waitForLine(/Workers keep dying right after booting/, { timeoutMs: 20_000 })),
  },
];

for (const point of points) {
  test(`TERM ${point.name}: taken at once, exit 0, no worker left`, async () => {
    const app = point.name.includes('crash') ? fixture('crash-after-boot.js') : fixture('app.js');
    const corral = startCorral([...point.args, '-b', '127.0.0.1:0', app]);
    let load: ReturnType<typeof startLoad> | undefined;
    try {
      if (point.load !== false) {
        const [url] = await corral.ready();
        load = startLoad(url, { clients: 8 });
      }
      await point.reach(corral, async () => load?.stop());
      const from = corral.lines.length;
      corral.signal('SIGTERM');
      await corral.waitForLine(/Handling signal: term/, { from, timeoutMs: 3000 });
      assert.equal(await corral.waitForExit(20_000), { code: 0, signal: null }, corral.output);
      for (const pid of corral.workerPids()) assert.not.ok(isAlive(pid), `worker ${pid} is gone`);
    } finally {
      await load?.stop();
      await corral.stop();
    }
  });
}

test('a signal the chart does not take in its state is said, not lost silently', async () => {
  const corral = startCorral(['-w', '1', '-b', '127.0.0.1:0', '--graceful-timeout', '5', fixture('app.js')]);
  try {
    const [url] = await corral.ready();
    const { body } = await startRequest(url, '/sleep?ms=1500');
    corral.signal('SIGTERM');
    await corral.waitForLine(/Handling signal: term/);
    corral.signal('SIGTERM');
    await corral.waitForLine(/Ignoring signal: term \(already draining\)/);
    assert.is(await body, 'slept 1500');
    assert.equal(await corral.waitForExit(), { code: 0, signal: null });
  } finally {
    await corral.stop();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
