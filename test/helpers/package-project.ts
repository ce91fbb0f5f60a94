// A project that depends on a packed corral tarball, as a user's app would:
// its package.json and a lockfile pinned from this checkout's own, so that
// `npm ci` installs exactly what corral is tested with.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { REPO_ROOT } from './corral-process.js';

export const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
};

/** The file name `npm pack` gives this checkout's tarball. */
export const tarballName = `${manifest.name}-${manifest.version}.tgz`;

/** The package.json of a project named `name` that depends on corral at `spec` (e.g. `file:../corral-0.1.0.tgz`). */
export function projectManifest(name: string, spec: string): object {
  return { name, private: true, type: 'module', dependencies: { corral: spec } };
}

/**
 * The lockfile of that project: corral from the tarball at `tarball` (its
 * integrity), corral's dependencies placed and pinned as this checkout's own
 * lockfile has them (with their registry addresses and integrity).
 */
export function projectLockfile(name: string, spec: string, tarball: string): object {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; dev?: boolean }> };
  const packages: Record<string, unknown> = {};
  const place = (dependency: string, from: string, optional: boolean) => {
    // Node's resolution over the lockfile's paths: from the dependent's folder up to the top.
    for (let folder = from; ; folder = folder.includes('/node_modules/') ? folder.slice(0, folder.lastIndexOf('/node_modules/')) : '') {
      const key = `${folder ? `${folder}/` : ''}node_modules/${dependency}`;
      const entry = lock.packages[key];
      if (entry) {
        if (key in packages) return;
        packages[key] = entry;
        for (const [next, nextOptional] of [
          ...Object.keys(entry.dependencies ?? {}).map((name) => [name, false] as const),
          ...Object.keys(entry.optionalDependencies ?? {}).map((name) => [name, true] as const),
        ]) place(next, key, nextOptional);
        return;
      }
      if (folder === '') {
        if (optional) return; // an optional dependency for another platform, not locked here
        throw new Error(`${dependency} (needed by ${from || 'corral'}) is not in package-lock.json`);
      }
    }
  };
  for (const dependency of Object.keys(manifest.dependencies)) place(dependency, '', false);
  return {
    name,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name, dependencies: { corral: spec } },
      'node_modules/corral': {
        version: manifest.version,
        resolved: spec,
        integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
        license: manifest.license,
        dependencies: manifest.dependencies,
        bin: manifest.bin,
        engines: manifest.engines,
      },
      ...packages,
    },
  };
}

/** Packs this checkout as `npm pack` would publish it (prepack builds it), from a copy so this one's dist/ stays as it is. */
export function packCheckout(workDir: string, env: NodeJS.ProcessEnv = process.env): { ok: boolean; output: string; tarball: string } {
  const source = join(workDir, 'source');
  const skipped = new Set(['node_modules', 'dist', '.git', 'test-output']);
  cpSync(REPO_ROOT, source, { recursive: true, filter: (path) => !skipped.has(relative(REPO_ROOT, path).split(sep)[0]) });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  const pack = spawnSync('npm', ['pack', '--pack-destination', workDir], { cwd: source, env, encoding: 'utf8', timeout: 150_000 });
  rmSync(source, { recursive: true, force: true });
  return { ok: pack.status === 0, output: `${pack.stdout}${pack.stderr}`, tarball: join(workDir, tarballName) };
}
