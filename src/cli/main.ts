#!/usr/bin/env node
// `corral`: runs the bundled CLI (dist/bundle, built with the rest by
// scripts/bundle.mjs), which loads a handful of files where run-cli.js loads
// some seventy, and starts the server and each worker that much sooner. The
// modules themselves run when there is no bundle, or when any module it was
// made from has changed since (tsc run alone, or tsc -w, after a change), so
// what runs is never stale.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../../', import.meta.url);
const bundled = new URL('bundle/cli-run-cli/cli/run-cli.js', dist);
const modules = new URL('./run-cli.js', import.meta.url);

function bundleIsCurrent(): boolean {
  try {
    const { newest, files } = JSON.parse(readFileSync(new URL('bundle/inputs.json', dist), 'utf8')) as { newest: number; files: string[] };
    // Paths, not a URL per file: parsing some 170 URLs costs more than statting the files.
    const distPath = fileURLToPath(dist);
    return files.every((file) => (statSync(distPath + file, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= newest);
  } catch {
    return false;
  }
}

await import((bundleIsCurrent() ? bundled : modules).href);
