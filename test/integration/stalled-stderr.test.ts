// The arbiter's log goes to stderr, a pipe or a terminal that may stop being
// read (a paused terminal, a supervisor that stopped reading). Writing to it
// must never hold up the arbiter: signals are still taken and a stop still ends
// in exit 0. (A first TERM seemed ignored, and a second one minutes later
// "worked": the arbiter was blocked writing "Handling signal: term".)
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, fixture, waitUntil } from '../helpers/corral-process.js';

test('with nobody reading its stderr pipe, the arbiter still takes TERM and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-stalled-'));
  const fifo = join(dir, 'stderr');
  const marker = join(dir, 'pipe-full');
  execFileSync('mkfifo', [fifo]);
  // A reader that holds the pipe open and never reads: once the app has filled it, a write to it blocks.
  const reader = openSync(fifo, 'r+');
  const writer = openSync(fifo, 'w');
  const child = spawn(process.execPath, [CLI, '-w', '1', '-b', '127.0.0.1:0', '--graceful-timeout', '1', '--no-control-socket', fixture('noisy-at-import.js')], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', writer],
    env: { ...process.env, NOISY_MARKER: marker },
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    // The app writes 1 MB as it loads; the pipe holds 64 KB.
    await waitUntil(() => existsSync(marker) && readFileSync(marker, 'utf8') === 'full', { timeoutMs: 10_000, what: 'the app to have filled the pipe' });
    child.kill('SIGTERM');
    const result = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running 15 s after TERM'), 15_000))]);
    assert.equal(result, { code: 0, signal: null });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    closeSync(writer);
    closeSync(reader);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
