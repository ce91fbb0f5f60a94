#!/usr/bin/env node
// Runs every compiled uvu test file in its own process (two at a time: the
// machine has two cores), prints each file's output whole, then one plain
// summary line `N passed, N failed, N skipped` that CI reads. Exits non-zero on
// any failure, and when no test ran at all.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');
const filter = process.argv[2];
/** A test file that runs longer than this is stopped and counted as failed. */
const FILE_DEADLINE_MS = 180_000;
const CONCURRENCY = Number(process.env.CORRAL_TEST_CONCURRENCY ?? 2);

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    // Its own process group: a file stopped at its deadline takes the servers it started with it (their
    // workers follow their arbiter, see src/arbiter/orphan-sentinel.ts), instead of leaving them running.
    const child = spawn(process.execPath, [file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' }, detached: true });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n[run-tests] ${relative(root, file)} exceeded ${FILE_DEADLINE_MS} ms; killed.\n`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, FILE_DEADLINE_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const count = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? 0);
      const total = count('Total');
      const passed = count('Passed');
      const skipped = count('Skipped');
      // uvu's Total counts the cases run; skipped ones are counted apart.
      let failed = total - passed;
      // A file that crashed, hung or exited non-zero without reporting a failure still failed.
      if ((code !== 0 || signal) && failed === 0) failed = 1;
      resolve({ file, output, passed, failed, skipped, ms: Date.now() - started });
    });
  });
}

const files = findTests(testRoot).filter((file) => !filter || file.includes(filter));
const results = [];
let next = 0;
async function lane() {
  while (next < files.length) {
    const file = files[next++];
    const result = await runFile(file);
    process.stdout.write(`\n── ${relative(root, file)} (${(result.ms / 1000).toFixed(1)} s)\n${result.output}`);
    results.push(result);
  }
}
await Promise.all(Array.from({ length: Math.max(1, CONCURRENCY) }, lane));

const sum = (key) => results.reduce((total, result) => total + result[key], 0);
const passed = sum('passed');
const skipped = sum('skipped');
// No test at all (a filter that matched nothing, a build that emitted none) is a failure; all skipped is not.
const nothingRan = passed === 0 && skipped === 0;
const failed = sum('failed') + (nothingRan ? 1 : 0);
for (const result of results) if (result.failed) process.stdout.write(`failed: ${relative(root, result.file)}\n`);
if (nothingRan) process.stdout.write('no test ran\n');
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 ? 1 : 0);
