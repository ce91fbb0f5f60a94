#!/usr/bin/env node
// `corral`: runs the bundled CLI (dist/bundle, built with the rest by
// scripts/bundle.mjs), which loads a handful of files where run-cli.js loads
// some seventy, and starts the server and each worker that much sooner. The
// modules themselves run when there is no bundle, or when it is older than
// they are (tsc run alone after a change), so what runs is never stale.
import { statSync } from 'node:fs';

const bundled = new URL('../../bundle/cli-run-cli/cli/run-cli.js', import.meta.url);
const modules = new URL('./run-cli.js', import.meta.url);
const modified = (file: URL) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;

await import((modified(bundled) >= modified(modules) ? bundled : modules).href);
