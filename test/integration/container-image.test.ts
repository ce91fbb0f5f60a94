// examples/Dockerfile as a user builds it: an app that depends on this
// checkout's packed tarball, its lockfile, the example's .dockerignore, and a
// stray node_modules/ in the context that must stay out of the image. The
// image serves the app, answers /readyz, runs as the unprivileged user under
// corral-init, and stops on `docker stop` (TERM) with exit 0 after the drain
// delay. Without a container engine that can build and run (docker with its
// daemon, or podman), the case is declared skipped and says why.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, waitUntil } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { packCheckout, projectLockfile, projectManifest, tarballName } from '../helpers/package-project.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-image-'));
const context = join(tmp, 'context');
const tag = `corral-example-test:${process.pid}`;
const container = `corral-example-test-${process.pid}`;

interface Run {
  ok: boolean;
  stdout: string;
  stderr: string;
  output: string;
}

function run(file: string, args: string[], { cwd = tmp, timeoutMs = 60_000 } = {}): Run {
  const result = spawnSync(file, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const stderr = `${result.stderr ?? ''}${result.error ? `${result.error.message}\n` : ''}`;
  return { ok: result.status === 0, stdout: result.stdout ?? '', stderr, output: `${result.stdout ?? ''}${stderr}` };
}

/** docker whose daemon answers, else podman; or why neither can build and run the image here. */
function findEngine(): { engine: string } | { reason: string } {
  const reasons: string[] = [];
  for (const engine of ['docker', 'podman']) {
    const info = run(engine, ['info'], { timeoutMs: 20_000 });
    if (info.ok) return { engine };
    // What it says on stderr (docker: "Cannot connect to the Docker daemon …"), else on stdout.
    const said = [info.stderr, info.stdout].map((text) => text.split('\n').find((line) => line.trim() !== '')?.trim()).find(Boolean) ?? 'no answer';
    reasons.push(/ENOENT/.test(info.stderr) ? `${engine} is not installed` : `\`${engine} info\` failed: ${said}`);
  }
  if (run('buildah', ['--version'], { timeoutMs: 20_000 }).ok) reasons.push('buildah alone can build the image but not run it');
  return { reason: reasons.join('; ') };
}

const found = findEngine();
const engine = 'engine' in found ? found.engine : undefined;
if (!engine) console.warn(`No container engine can build and run an image here: ${'reason' in found ? found.reason : ''}. The examples/Dockerfile case is skipped.`);

/** The host address a published container port is reachable at (`docker port` prints e.g. 127.0.0.1:49153). */
function published(port: number): string {
  const mapped = run(engine!, ['port', container, `${port}/tcp`]);
  assert.ok(mapped.ok, mapped.output);
  const address = mapped.stdout.trim().split('\n')[0];
  return `http://${address.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`;
}

(engine ? test : test.skip)('examples/Dockerfile builds an image that serves the app as the node user under corral-init, and stops on TERM with exit 0', async () => {
  const pack = packCheckout(tmp);
  assert.ok(pack.ok, pack.output);
  mkdirSync(context);
  copyFileSync(pack.tarball, join(context, tarballName));
  const spec = `file:${tarballName}`;
  writeFileSync(join(context, 'package.json'), `${JSON.stringify(projectManifest('corral-image-check', spec), null, 2)}\n`);
  writeFileSync(join(context, 'package-lock.json'), `${JSON.stringify(projectLockfile('corral-image-check', spec, pack.tarball), null, 2)}\n`);
  writeFileSync(join(context, 'app.js'), 'export default (req, res) => res.end(`served from the image by ${process.getuid()}`);\n');
  // The one line added to the example: the tarball stands in for the registry, so the deps stage needs it beside the lockfile.
  const dependencies = 'COPY package.json package-lock.json ./\n';
  const dockerfile = readFileSync(join(REPO_ROOT, 'examples', 'Dockerfile'), 'utf8');
  assert.is(dockerfile.split(dependencies).length, 2, 'the deps stage copies package.json and package-lock.json once');
  writeFileSync(join(context, 'Dockerfile'), dockerfile.replace(dependencies, `${dependencies}COPY ${tarballName} ./\n`));
  copyFileSync(join(REPO_ROOT, 'examples', '.dockerignore'), join(context, '.dockerignore'));
  // The host's modules: were they copied over the image's, corral would not even start.
  mkdirSync(join(context, 'node_modules', 'corral'), { recursive: true });
  writeFileSync(join(context, 'node_modules', 'corral', 'package.json'), '{ "name": "corral", "version": "0.0.0-host", "main": "missing.js" }\n');

  try {
    const build = run(engine!, ['build', '-t', tag, '.'], { cwd: context, timeoutMs: 150_000 });
    assert.ok(build.ok, `${engine} build failed:\n${build.output}`);
    const started = run(engine!, ['run', '-d', '--name', container, '-p', '127.0.0.1::8000', '-p', '127.0.0.1::8081', tag]);
    assert.ok(started.ok, started.output);
    const app = published(8000);
    const health = published(8081);
    const logs = () => run(engine!, ['logs', container]).output;
    await waitUntil(async () => (await request(health, { path: '/readyz' }).catch(() => undefined))?.status === 200, { timeoutMs: 30_000, what: '/readyz to answer 200' }).catch((error: Error) => {
      throw new Error(`${error.message}; the container's log:\n${logs()}`);
    });
    const served = await request(app);
    assert.is(served.status, 200);
    assert.is(served.body, 'served from the image by 1000', 'served by the node user (uid 1000), not root');
    assert.match(run(engine!, ['exec', container, 'cat', '/proc/1/cmdline']).stdout, /corral-init/, 'corral-init is PID 1');

    // docker stop sends the image's STOPSIGNAL (TERM); corral reports not ready for --drain-delay 10, drains, exits 0.
    const stop = run(engine!, ['stop', '-t', '60', container], { timeoutMs: 90_000 });
    assert.ok(stop.ok, stop.output);
    const exitCode = run(engine!, ['inspect', '-f', '{{.State.ExitCode}}', container]).stdout.trim();
    const output = logs();
    assert.is(exitCode, '0', output);
    assert.match(output, /Reporting not ready; draining in 10 s/);
    assert.match(output, /Shutting down: Master/);
  } finally {
    run(engine!, ['rm', '-f', container]);
    run(engine!, ['rmi', '-f', tag]);
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
