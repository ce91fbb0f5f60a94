// The package as a user gets it: packed (prepack builds it) from a copy of this
// checkout, installed offline into a fresh project, and serving an app through
// `npx corral`, with no warning from npm or node on the way.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, posix, relative, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { projectLockfile, projectManifest, tarballName } from '../helpers/package-project.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-package-'));
const source = join(tmp, 'source');
const project = join(tmp, 'project');
const unpacked = join(tmp, 'unpacked');
const tarball = join(tmp, tarballName);
const spec = `file:../${posix.basename(tarball)}`;

// The user's own npm configuration (~/.npmrc, and what an enclosing `npm test` passes on to its children as
// npm_config_* variables) is left out: its warnings are not the package's.
const userconfig = join(tmp, 'npmrc');
writeFileSync(userconfig, '');
// (Unset, not left out: whoever merges this onto process.env must not bring them back.)
const unsetNpmVariables = Object.fromEntries(Object.keys(process.env).filter((name) => /^npm_/i.test(name)).map((name) => [name, undefined]));
const npmEnv: NodeJS.ProcessEnv = { ...process.env, ...unsetNpmVariables, npm_config_userconfig: userconfig, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

interface Run {
  code: number;
  output: string;
  stdout: string;
}

function run(file: string, args: string[], cwd: string, timeoutMs = 150_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: npmEnv, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, output: `${stdout}${stderr}` });
    });
  });
}

const warnings = (output: string) => output.split('\n').filter((line) => /\bwarn(ing)?\b/i.test(line));

/**
 * npm 11 lists the dependencies whose install scripts the project has not
 * reviewed: msgpackr's optional native decoder (msgpackr-extract) is one, and
 * a dependency's, not corral's (corral has none). Every other warning counts.
 */
function npmWarnings(output: string): string[] {
  const advisory = warnings(output).filter((line) => /^npm warn install-scripts/.test(line));
  const listed = advisory.flatMap((line) => /^npm warn install-scripts {2}(\S+)@/.exec(line)?.[1] ?? []);
  assert.not.ok(listed.includes('corral'), `corral's own install script is listed:\n${advisory.join('\n')}`);
  return warnings(output).filter((line) => !advisory.includes(line));
}

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [relative(unpacked, path).split(sep).join('/')];
  });
}

test('npm pack: a clean build, the license, no source maps without sources, no install script, every link in the docs inside the package', async () => {
  // A copy of the checkout, so that packing (which rebuilds dist/) leaves this one's dist/ alone.
  const skipped = new Set(['node_modules', 'dist', '.git', 'test-output']);
  cpSync(REPO_ROOT, source, { recursive: true, filter: (path) => !skipped.has(relative(REPO_ROOT, path).split(sep)[0]) });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  const pack = await run('npm', ['pack', '--pack-destination', tmp], source);
  assert.is(pack.code, 0, pack.output);
  assert.equal(npmWarnings(pack.output), [], 'npm pack warns');
  assert.ok(existsSync(tarball), pack.output);

  mkdirSync(unpacked);
  const untar = await run('tar', ['-xzf', tarball, '-C', unpacked], tmp);
  assert.is(untar.code, 0, untar.output);
  const files = filesUnder(join(unpacked, 'package'));
  const packed = new Set(files.map((file) => file.replace(/^package\//, '')));
  for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/src/cli/main.js', 'dist/bundle/cli-run-cli/cli/run-cli.js', 'dist/bundle/worker-main/worker/main.js', 'dist/src/index.d.ts', 'examples/test.js', 'examples/systemd/corral.service', 'diagrams/arbiter.md', 'docs/settings.md']) {
    assert.ok(packed.has(file), `${file} is in the package`);
  }
  assert.equal([...packed].filter((file) => file.endsWith('.map') || /^dist\/(test|scripts)\//.test(file)), [], 'no source maps, no tests');
  assert.match(readFileSync(join(unpacked, 'package', 'LICENSE'), 'utf8'), /^MIT License/);
  for (const file of [...packed].filter((name) => name.endsWith('.js') && name.startsWith('dist/'))) {
    assert.not.match(readFileSync(join(unpacked, 'package', file), 'utf8'), /sourceMappingURL/, `${file} points at no missing map`);
  }

  const scripts = (JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const installScript of ['preinstall', 'install', 'postinstall', 'prepare']) assert.not.ok(installScript in scripts, `no ${installScript} script`);

  // Every relative link of every Markdown file shipped leads to a file shipped.
  const broken: string[] = [];
  for (const file of [...packed].filter((name) => name.endsWith('.md'))) {
    // Code (fenced or inline) is not prose: `log[level](message)` is no link.
    const text = readFileSync(join(unpacked, 'package', file), 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^([a-z]+:|#)/i.test(target)) continue;
      const path = normalize(join(dirname(file), target.split('#')[0])).split(sep).join('/').replace(/\/$/, '');
      if (!packed.has(path) && ![...packed].some((name) => name.startsWith(`${path}/`))) broken.push(`${file}: ${target}`);
    }
  }
  assert.equal(broken, [], 'links to files not in the package');
});

test('the tarball installs offline into a fresh project and serves an app through npx corral, with no warning', async () => {
  assert.ok(existsSync(tarball), 'packed by the test before');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(projectManifest('corral-package-check', spec), null, 2)}\n`);
  writeFileSync(join(project, 'package-lock.json'), `${JSON.stringify(projectLockfile('corral-package-check', spec, tarball), null, 2)}\n`);
  writeFileSync(join(project, 'app.js'), "export default (req, res) => res.end('served from the package');\n");
  const install = await run('npm', ['ci', '--offline'], project);
  assert.is(install.code, 0, `${install.output}\n(npm ci --offline takes corral's dependencies from npm's cache: run npm ci in the checkout first)`);
  assert.equal(npmWarnings(install.output), [], 'npm ci warns');
  assert.ok(existsSync(join(project, 'node_modules', '.bin', 'corral')), 'the bin is linked');

  await withCorral(
    ['-w', '2', '-b', '127.0.0.1:0', 'app.js'],
    async (corral) => {
      const [url] = await corral.ready(30_000);
      assert.is((await request(url)).body, 'served from the package');
      assert.equal(npmWarnings(corral.output), [], 'warnings while serving');
    },
    { cwd: project, env: npmEnv, launcher: (command) => ['npx', ['--offline', 'corral', ...command.slice(2)]] },
  );
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
