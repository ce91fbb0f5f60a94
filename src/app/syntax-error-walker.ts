// Run by locate-syntax-error.ts as `node --experimental-vm-modules
// --experimental-import-meta-resolve syntax-error-walker.js FILE`: walks the
// static imports from FILE, breadth first, parsing each ES module with
// vm.SourceTextModule (which parses and never evaluates), and prints the place
// `node --check` gives for the first one that does not parse.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Enough for any app's own files and the packages on its way; a graph larger than this is not walked to the end. */
const MAX_MODULES = 5000;

const { SourceTextModule } = vm as unknown as {
  SourceTextModule: new (source: string, options: { identifier: string }) => { dependencySpecifiers: readonly string[] };
};

/** node --check's report: `file:line`, the line, the caret; undefined when the file parses for node (a CommonJS file, say). */
function placeFromCheck(path: string): string | undefined {
  const check = spawnSync(process.execPath, ['--check', path], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (check.status === 0 || !/SyntaxError/.test(check.stderr)) return undefined;
  const place = check.stderr.split(/\n\s*\n/)[0];
  return /:\d+\n/.test(place) ? place : undefined;
}

function walk(entry: string): string | undefined {
  const queue = [pathToFileURL(entry).href];
  const seen = new Set(queue);
  while (queue.length > 0 && seen.size <= MAX_MODULES) {
    const url = queue.shift()!;
    // CommonJS files get their place from node itself, JSON has none to give.
    if (!url.startsWith('file:') || /\.(cjs|json|node)$/.test(url)) continue;
    const path = fileURLToPath(url);
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    let specifiers: readonly string[];
    try {
      specifiers = new SourceTextModule(source, { identifier: url }).dependencySpecifiers;
    } catch (error) {
      const place = error instanceof SyntaxError ? placeFromCheck(path) : undefined;
      if (place) return place;
      continue;
    }
    for (const specifier of specifiers) {
      let resolved: string;
      try {
        resolved = import.meta.resolve(specifier, url);
      } catch {
        continue;
      }
      if (!seen.has(resolved)) {
        seen.add(resolved);
        queue.push(resolved);
      }
    }
  }
  return undefined;
}

const place = walk(process.argv[2]);
if (place) process.stdout.write(`${place}\n`);
process.exitCode = place ? 0 : 1;
