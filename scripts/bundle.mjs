// The bundled build (dist/bundle/) that the CLI and its workers run: each
// process's modules joined into a dozen files instead of some seventy modules
// and xstate's CommonJS build, which cuts about a third of the CPU a start
// takes to its first 200. It is made from tsc's output (dist/src), after it,
// by `npm run build` and the package build.
//
// One graph per process or thread corral starts: the CLI (the arbiter), and
// every file a module of a graph starts by itself (`new URL('./x.js',
// import.meta.url)`: the worker, the thread kind's task, the orphan watchdog,
// the syntax-error walker), each in a directory of its own
// (dist/bundle/worker-main/ for dist/src/worker/main.js), so a graph's chunks
// are cut for that process alone.
//
// Loading stays lazy: every module a graph imports on demand (`import('./x.js')`:
// a kind, the metrics, the inspector, the control server …) is an entry of its
// own at its own path (dist/bundle/worker-main/kinds/async.js for
// dist/src/kinds/async.js), and what entries share goes into chunks
// (dist/bundle/<graph>/chunks/), so a process loads only what its settings
// use, as the unbundled build does.
//
// Every output sits two directories below its graph's directory, as the
// sources sit below dist/ (dist/src/<dir>/<file>.js), and each
// `import.meta.url` is rewritten here to hold from there: a path relative to a
// module's own URL (`../../package.json`) still reaches the same file, and one
// that names a file started by itself reaches that file's graph. The library
// entry (dist/src/index.js) stays unbundled: embedding code imports corral's
// modules themselves.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const SOURCES = join(DIST, 'src');
export const BUNDLE = join(DIST, 'bundle');
/** Built here, then renamed into place: a corral started meanwhile never finds half a bundle. */
const BUILDING = join(DIST, `bundle.building-${process.pid}`);
/** What the launcher (src/cli/main.ts) reads to tell a bundle older than any module it was made from. */
const STAMP = 'inputs.json';
/** The CLI's module; the other processes and threads are found in the code. */
const CLI = join(SOURCES, 'cli/run-cli.js');
/** Packages left to node to load: piscina starts its threads from files beside its own, and the inspector's client is optional. */
const EXTERNAL = ['piscina', '@statelyai/inspect'];
const COMMON = { bundle: true, format: 'esm', platform: 'node', target: 'node20', external: EXTERNAL, logLevel: 'warning' };

const toPosix = (path) => path.split(sep).join('/');

/** The literal relative targets of `pattern` in a module of dist/src, resolved. */
function targets(file, pattern) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(pattern)].map(([, target]) => resolve(dirname(file), target)).filter((target) => target.startsWith(SOURCES + sep) && target.endsWith('.js'));
}
const LOADED_LATER = /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;
const STARTED = /new URL\(\s*'(\.{1,2}\/[^']+)',\s*import\.meta\.url\s*\)/g;

/** The directory of dist/bundle holding the graph started at `root` (dist/src/cli/run-cli.js → cli-run-cli). */
const graphName = (root) => toPosix(relative(SOURCES, root)).replace(/\.js$/, '').replaceAll('/', '-');
/** Where a module of dist/src lands as an entry of the graph started at `root`. */
const entryOutput = (root, file) => join(BUILDING, graphName(root), relative(SOURCES, file));

/**
 * Every process or thread corral starts, each with the modules it loads on demand:
 * the CLI (the arbiter), and whatever a module of a graph starts by file (the worker, its threads).
 */
async function graphs() {
  const found = new Map();
  const pending = [CLI];
  while (pending.length > 0) {
    const root = pending.pop();
    if (found.has(root)) continue;
    const { metafile } = await build({ ...COMMON, entryPoints: [root], outdir: BUILDING, splitting: true, write: false, metafile: true });
    const modules = Object.keys(metafile.inputs).map((input) => resolve(ROOT, input)).filter((input) => input.startsWith(SOURCES + sep));
    const entries = new Set([root]);
    for (const module of modules) {
      for (const target of targets(module, LOADED_LATER)) entries.add(target);
      for (const target of targets(module, STARTED)) pending.push(target);
    }
    for (const entry of entries) {
      if (toPosix(relative(SOURCES, entry)).split('/').length !== 2) throw new Error(`${relative(ROOT, entry)}: a bundle entry must sit one directory below dist/src (module URLs are rewritten for that depth)`);
    }
    found.set(root, [...entries]);
  }
  return found;
}

/**
 * Rewrites `import.meta.url` in a module of dist/ to hold from an output of the graph
 * started at `root` (all of them two directories below its directory of dist/bundle).
 */
function urlsFromBundle(root, roots) {
  const outputDir = join(BUILDING, graphName(root), 'any');
  // Stands for the output's own URL while the other uses are rewritten.
  const OWN_URL = '__corralOutputUrl__';
  const fromOutput = (target) => {
    const path = toPosix(relative(outputDir, target));
    return path.startsWith('.') ? path : `./${path}`;
  };
  return {
    name: 'urls-from-bundle',
    setup(esbuild) {
      esbuild.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(DIST + sep)) return undefined;
        let text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return { contents: text, loader: 'js' };
        // A file started on its own is its bundled graph; anything else (package.json, a shell script) stays where it is.
        text = text.replace(/new URL\(\s*'([^']+)',\s*import\.meta\.url\s*\)/g, (_, target) => {
          const path = resolve(dirname(args.path), target);
          const bundled = roots.includes(path) ? entryOutput(path, path) : path;
          return `new URL(${JSON.stringify(fromOutput(bundled))}, ${OWN_URL})`;
        });
        // Any other use (createRequire, the package root) sees the module's own place in dist/.
        text = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromOutput(args.path))}, import.meta.url).href`);
        return { contents: text.replaceAll(OWN_URL, 'import.meta.url'), loader: 'js' };
      });
    },
  };
}

/** Builds dist/bundle/<graph>/ for every process and thread corral starts. */
export async function bundle() {
  rmSync(BUILDING, { recursive: true, force: true });
  const found = await graphs();
  const roots = [...found.keys()];
  const inputs = new Set();
  for (const [root, entries] of found) {
    const outdir = join(BUILDING, graphName(root));
    const { metafile } = await build({
      ...COMMON,
      entryPoints: entries,
      outdir,
      outbase: SOURCES,
      chunkNames: 'chunks/[name]-[hash]',
      splitting: true,
      plugins: [urlsFromBundle(root, roots)],
      sourcemap: false,
      legalComments: 'none',
      metafile: true,
    });
    for (const output of Object.keys(metafile.outputs)) {
      if (toPosix(relative(outdir, resolve(ROOT, output))).split('/').length !== 2) throw new Error(`${output}: every bundle output must sit one directory below its graph's directory`);
    }
    for (const input of Object.keys(metafile.inputs)) if (resolve(ROOT, input).startsWith(DIST + sep)) inputs.add(toPosix(relative(DIST, resolve(ROOT, input))));
  }
  // The modules it was made from (paths from dist/) and the newest of their times: one changed since is newer.
  const files = [...inputs].sort();
  const newest = Math.max(...files.map((file) => statSync(join(DIST, file)).mtimeMs));
  writeFileSync(join(BUILDING, STAMP), JSON.stringify({ newest, files }));
  rmSync(BUNDLE, { recursive: true, force: true });
  renameSync(BUILDING, BUNDLE);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundle();
