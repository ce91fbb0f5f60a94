// Makes a TypeScript file (an app, a config file) importable in this process or
// thread. node 20 cannot import .ts by itself; node 22.6+ can strip types (by
// default from 23.6). corral uses, in this order: a loader node was started with
// (NODE_OPTIONS='--import tsx'), tsx installed in the file's project (registered
// here, in every process and thread that imports the file), node's own type
// stripping; otherwise it says what to install.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError } from '../errors.js';

const TYPESCRIPT_EXTENSIONS: ReadonlySet<string> = new Set(['.ts', '.mts', '.cts']);

export const isTypeScript = (file: string) => TYPESCRIPT_EXTENSIONS.has(extname(file));

/** Why a TypeScript file cannot be imported here, and what to do about it. */
export class TypeScriptLoaderMissing extends Error {}

/** What node was started with: its own flags and NODE_OPTIONS (which workers and threads inherit). */
const nodeArguments = () => [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].join(' ');

/** `--import tsx`, `--loader ts-node/esm`, `-r @swc-node/register` …: the user chose a loader; corral adds none. */
const LOADER_GIVEN = /(?:--import|--loader|--experimental-loader|--require|-r)[= ]+['"]?(?:tsx|ts-node|@swc-node\/register|esbuild-register|@esbuild-kit\/)/;

function nodeStripsTypes(): boolean {
  // process.features.typescript exists from 22.10 ('strip', 'transform', or false when turned off).
  const typescript = (process.features as { typescript?: string | false }).typescript;
  if (typescript !== undefined) return Boolean(typescript);
  return /--experimental-(?:strip|transform)-types\b/.test(nodeArguments()) && !/--no-experimental-strip-types\b/.test(nodeArguments());
}

/** node versions with type stripping behind a flag: 22.6 to 23.5. */
function nodeCouldStripTypes(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return (major === 22 && minor >= 6) || (major === 23 && minor < 6);
}

type ExportTarget = string | { [condition: string]: ExportTarget } | undefined;

/** The file an entry of a package's `exports` gives to `import`. */
function importTarget(target: ExportTarget): string | undefined {
  if (typeof target === 'string' || target === undefined) return target;
  return importTarget(target.import ?? target.default);
}

/** tsx's package.json in the first of `directories` whose node_modules (or an ancestor's) holds it. */
function findTsx(directories: readonly string[]): string | undefined {
  for (const directory of directories) {
    try {
      return createRequire(join(directory, 'noop.js')).resolve('tsx/package.json');
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/** Registers tsx's ESM hooks (import) and CommonJS hooks (require: a .ts file in a package without "type": "module"). */
async function registerTsx(packageFile: string): Promise<void> {
  const manifest = JSON.parse(readFileSync(packageFile, 'utf8')) as { version?: string; exports?: Record<string, ExportTarget> };
  const esmApi = importTarget(manifest.exports?.['./esm/api']);
  if (!esmApi || !manifest.exports?.['./cjs/api']) {
    throw new TypeScriptLoaderMissing(
      `the tsx installed at ${dirname(packageFile)} (${manifest.version ?? 'unknown version'}) has no register() API: install tsx 4 or later (npm install --save-dev tsx@latest).`,
    );
  }
  try {
    const esm = (await import(pathToFileURL(join(dirname(packageFile), esmApi)).href)) as { register: () => unknown };
    esm.register();
    (createRequire(packageFile)('tsx/cjs/api') as { register: () => unknown }).register();
  } catch (error) {
    throw new TypeScriptLoaderMissing(`registering the tsx installed at ${dirname(packageFile)} failed: ${describeError(error)}`);
  }
}

/** Once per process or thread: hooks registered stay for every later import. */
let tsxRegistered: Promise<void> | undefined;

/**
 * Makes TypeScript files importable here, looking for tsx from `directories`
 * (the file's own, then the working directory). Throws TypeScriptLoaderMissing
 * when nothing can.
 */
export async function prepareTypeScript(directories: readonly string[]): Promise<void> {
  if (tsxRegistered) return tsxRegistered;
  // node 20 runs --import preloads in the main thread only: a pool thread registers tsx itself when it can.
  const loaderGiven = LOADER_GIVEN.test(nodeArguments());
  // (worker_threads is imported here, for TypeScript apps only: a worker otherwise never loads it.)
  if (loaderGiven && (await import('node:worker_threads')).isMainThread) return;
  const tsx = findTsx(directories);
  if (tsx) {
    tsxRegistered = registerTsx(tsx);
    // A failed registration is reported each time, not remembered as done.
    tsxRegistered.catch(() => (tsxRegistered = undefined));
    return tsxRegistered;
  }
  if (nodeStripsTypes() || loaderGiven) return;
  throw new TypeScriptLoaderMissing(
    `no TypeScript loader was found for node ${process.version}, which cannot import TypeScript by itself: ` +
      `install tsx in the project (npm install --save-dev tsx), which corral then registers, or start corral with NODE_OPTIONS='--import tsx'` +
      (nodeCouldStripTypes() ? `, or let node strip the types: NODE_OPTIONS='--experimental-strip-types'.` : '.'),
  );
}
