// TypeScript apps and config files through the real CLI: with tsx installed in
// the app's project, corral registers it in the arbiter, every worker and every
// pool thread; without a loader, it says what to install; with node's own type
// stripping (node 22.18+/23.6+), a strippable app is served as it is.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, fixture, startCorral, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-typescript-'));
/** A project with tsx installed and corral linked into its node_modules, as `npm install` leaves them. */
const withTsx = join(tmp, 'with-tsx');
/** A project with no TypeScript loader at all. */
const bare = join(tmp, 'bare');
const nodeStripsTypes = Boolean((process.features as { typescript?: string | false }).typescript);
/** For the no-loader cases: a node that strips types by default is told not to. */
const noStripping = nodeStripsTypes ? { NODE_OPTIONS: '--no-experimental-strip-types' } : {};

function project(dir: string, packageJson: object) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  for (const name of ['app.ts', 'greeting.ts', 'strippable.ts']) cpSync(fixture(`typescript/${name}`), join(dir, name));
}

// Set up before the cases are declared: without tsx they are declared skipped (and counted so), not passed.
function setUp(): boolean {
  project(withTsx, { name: 'with-tsx', private: true });
  const install = spawnSync('npm', ['install', '--no-save', '--prefer-offline', '--no-audit', '--no-fund', 'tsx@4'], {
    cwd: withTsx,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const installed = install.status === 0;
  if (!installed) console.warn(`tsx could not be installed (offline, no npm cache?): the tsx cases are skipped.\n${install.stderr}`);
  mkdirSync(join(withTsx, 'node_modules'), { recursive: true });
  symlinkSync(REPO_ROOT, join(withTsx, 'node_modules', 'corral'), 'dir');
  // An ES module package inside it: tsx runs its .ts files as ESM, the outer one's as CommonJS.
  project(join(withTsx, 'esm'), { name: 'esm-part', private: true, type: 'module' });
  project(bare, { name: 'bare', private: true });
  return installed;
}
const tsxInstalled = setUp();
/** A case that needs tsx: skipped, and reported as such, when it could not be installed. */
const tsxCase = tsxInstalled ? test : test.skip;

test.after(() => rmSync(tmp, { recursive: true, force: true }));

for (const [kind, dir] of [
  ['async', withTsx],
  ['sync', withTsx],
  ['thread', withTsx],
  ['async', join(withTsx, 'esm')],
  ['thread', join(withTsx, 'esm')],
] as const) {
  const packageType = dir.endsWith('esm') ? 'an ES module' : 'a CommonJS';
  tsxCase(`corral app.ts serves a TypeScript app with tsx from the project (-k ${kind}, ${packageType} package)`, async () => {
    await withCorral(
      ['app.ts', '-k', kind, '-w', '1', '-b', '127.0.0.1:0'],
      async (corral) => {
        const [url] = await corral.ready(30_000);
        const response = await request(url!, { path: '/typed' });
        assert.is(response.status, 200);
        assert.match(response.body, /^hello from a typed app \(pid \d+\) at \/typed\n$/);
      },
      { cwd: dir },
    );
  });
}

tsxCase('a module given without its extension finds the .ts file', async () => {
  await withCorral(
    ['app', '-w', '1', '-b', '127.0.0.1:0'],
    async (corral) => {
      const [url] = await corral.ready(30_000);
      assert.match((await request(url!)).body, /hello from a typed app/);
    },
    { cwd: withTsx },
  );
});

tsxCase('corral.config.ts is found, its typed hooks run in the arbiter and the workers, and HUP re-reads it', async () => {
  const config = join(withTsx, 'corral.config.ts');
  cpSync(fixture('typescript/corral.config.ts'), config);
  try {
    await withCorral(
      ['app.ts', '-b', '127.0.0.1:0'],
      async (corral) => {
        await corral.waitForLine(/typed whenReady: bind 127\.0\.0\.1:0, 2 workers/, { timeoutMs: 30_000 });
        assert.is(corral.lines.filter((line) => /typed postWorkerInit: worker \S+ pid \d+/.test(line)).length, 2);
        writeFileSync(config, readFileSync(config, 'utf8').replace('workers: 2', 'workers: 3'));
        const from = corral.lines.length;
        process.kill(corral.pid, 'SIGHUP');
        await corral.waitForLine(/Reload complete/, { timeoutMs: 30_000, from });
        // The new generation has the edited file's three workers.
        assert.is(corral.lines.slice(from).filter((line) => /typed postWorkerInit: worker \S+ pid \d+/.test(line)).length, 3, corral.output);
        assert.ok(corral.lines.slice(from).some((line) => line.includes('typed nworkersChanged: 2 -> 3')), 'nworkersChanged ran for the reload');
      },
      { cwd: withTsx },
    );
  } finally {
    rmSync(config, { force: true });
  }
});

test('with no TypeScript loader, corral app.ts exits 4 saying what to install', async () => {
  const corral = startCorral(['app.ts', '-w', '1', '-b', '127.0.0.1:0'], { cwd: bare, env: noStripping });
  try {
    const exit = await corral.waitForExit(30_000);
    assert.is(exit.code, 4, corral.output);
    assert.match(corral.output, /App module 'app\.ts' \(\S+app\.ts\) is TypeScript, and no TypeScript loader was found for node v\d+/);
    assert.match(corral.output, /npm install --save-dev tsx/);
    assert.match(corral.output, /NODE_OPTIONS='--import tsx'/);
    assert.not.match(corral.output, /Unknown file extension/);
  } finally {
    await corral.stop();
  }
});

test('with no TypeScript loader, corral.config.ts fails the start (exit 1) saying what to install', async () => {
  const config = join(bare, 'corral.config.ts');
  cpSync(fixture('typescript/corral.config.ts'), config);
  const corral = startCorral([fixture('app.js'), '-b', '127.0.0.1:0'], { cwd: bare, env: noStripping });
  try {
    const exit = await corral.waitForExit(30_000);
    assert.is(exit.code, 1, corral.output);
    assert.match(corral.output, /config file \S+corral\.config\.ts is TypeScript, and no TypeScript loader was found/);
    assert.match(corral.output, /npm install --save-dev tsx/);
  } finally {
    await corral.stop();
    rmSync(config, { force: true });
  }
});

(nodeStripsTypes ? test : test.skip)("node's own type stripping serves a strippable app with no tsx (node 22.18+/23.6+ only)", async () => {
  await withCorral(
    ['strippable.ts', '-k', 'thread', '-w', '1', '-b', '127.0.0.1:0'],
    async (corral) => {
      const [url] = await corral.ready(30_000);
      assert.is((await request(url!, { path: '/x' })).body, 'hello from stripped types at /x\n');
    },
    { cwd: bare },
  );
});

test.run();
