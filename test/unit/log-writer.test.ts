// The log writer against real descriptors that fail: a pipe nobody reads
// (EAGAIN: memory must stay under the cap), /dev/full (ENOSPC on every
// write: nothing may block or loop), a reopen whose directory is gone, and
// processes sharing one pipe (no line may cut into another's).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDropReport } from '../../src/log/drop-report.js';
import { FdWriter } from '../../src/log/fd-writer.js';
import { openLogFile } from '../../src/log/log-file.js';
import { waitUntil } from '../helpers/corral-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-log-writer-'));

test('a pipe nobody reads: what waits stays under the cap, the rest is dropped and counted, nothing blocks; all of it arrives once read', async () => {
  const fifo = join(tmp, 'fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0);
  // Read-write, so opening does not wait for a reader; non-blocking, as a pipe to a slow reader is.
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    let dropped = 0;
    const causes = new Set<string>();
    const cap = 256 * 1024;
    const writer = new FdWriter(fd, { sync: true, maxQueuedBytes: cap, owned: false, onDropped: (lines, cause) => ((dropped += lines), causes.add(cause)) });
    const line = `${'x'.repeat(1023)}\n`;
    const lines = 2000;
    const started = performance.now();
    let largest = 0;
    for (let index = 0; index < lines; index += 1) {
      writer.write(line);
      largest = Math.max(largest, writer.queuedBytes);
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `2000 writes to a full pipe took ${elapsed.toFixed(0)} ms`);
    assert.ok(largest <= cap, `${largest} bytes waited, the cap is ${cap}`);
    assert.ok(dropped > 1000, `${dropped} lines dropped`);
    assert.match([...causes].join(), /already waiting to be written/);

    // A reader comes back: the writer retries on its own and everything it kept arrives, whole lines only.
    let received = '';
    const chunk = Buffer.alloc(64 * 1024);
    await waitUntil(() => {
      try {
        for (let read = readSync(reader, chunk); read > 0; read = readSync(reader, chunk)) received += chunk.toString('latin1', 0, read);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      return writer.queuedBytes === 0 && received.length === (lines - dropped) * line.length;
    }, { timeoutMs: 10_000, what: 'the kept lines to arrive' });
    assert.ok(received.split('\n').slice(0, -1).every((text) => text === line.slice(0, -1)), 'no line torn');
  } finally {
    closeSync(fd);
    closeSync(reader);
  }
});

test('/dev/full (ENOSPC on every write): each line dropped and counted, flush and close return at once', async () => {
  for (const sync of [true, false]) {
    let dropped = 0;
    const told: string[] = [];
    const file = openLogFile('/dev/full', { dash: 'stderr', sync, role: 'test log', onDropped: (lines) => (dropped += lines), tellDrops: (message) => told.push(message) });
    const started = performance.now();
    for (let index = 0; index < 100; index += 1) file.write(`line ${index}\n`);
    file.flush();
    assert.ok(performance.now() - started < 500, `sync=${sync}: writing and flushing took ${(performance.now() - started).toFixed(0)} ms`);
    await file.close();
    assert.is(dropped, 100, `sync=${sync}`);
    // Told at once for the first drop, the rest only when flushed or closed: a few lines, not a hundred, adding up to every line.
    assert.ok(told.length <= 3, told.join('\n'));
    assert.is(told.reduce((sum, message) => sum + Number(/^Dropped (\d+)/.exec(message)![1]), 0), 100, told.join('\n'));
    assert.match(told[0], /^Dropped \d+ test log line\(s\) \(\d+ since this process started\): ENOSPC: no space left on device, write \(\/dev\/full\)/);
  }
});

test('drop reports: the first at once, later drops added up and told once the interval has passed', async () => {
  const told: string[] = [];
  const report = createDropReport('access log', (message) => told.push(message), 200);
  report.dropped(1, 'ENOSPC');
  assert.is(told.length, 1);
  report.dropped(2, 'ENOSPC');
  report.dropped(3, 'ENOSPC');
  assert.is(told.length, 1, 'not again within the interval');
  await waitUntil(() => told.length === 2, { timeoutMs: 2000, what: 'the second report' });
  assert.match(told[1], /^Dropped 5 access log line\(s\) \(6 since this process started\): ENOSPC/);
  report.flush();
  assert.is(told.length, 2, 'nothing untold, nothing said');
});

test('a reopen whose directory is gone keeps writing to the old file and says why; once it is back, the next reopen switches', async () => {
  const dir = join(tmp, 'logs');
  mkdirSync(dir);
  const path = join(dir, 'error.log');
  const file = openLogFile(path, { dash: 'stderr', sync: true, role: 'error log' });
  file.write('before\n');
  renameSync(dir, `${dir}.moved`);
  const failure = file.reopen();
  assert.match(failure ?? '', new RegExp(`^Cannot reopen the error log ${path}: ENOENT: .*; still writing to the file opened before\\. Create its directory`));
  file.write('after a failed reopen\n');
  mkdirSync(dir);
  assert.is(file.reopen(), undefined);
  file.write('after a reopen\n');
  await file.close();
  assert.is(readFileSync(join(`${dir}.moved`, 'error.log'), 'utf8'), 'before\nafter a failed reopen\n');
  assert.is(readFileSync(path, 'utf8'), 'after a reopen\n');
});

test('processes sharing a pipe with a slow reader (the arbiter and its workers on one stderr): every line arrives whole, none cut by another\'s', async () => {
  const fifo = join(tmp, 'shared-fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeEnd = openSync(fifo, constants.O_WRONLY);
  const writerModule = new URL('../../src/log/fd-writer.js', import.meta.url).href;
  const lines = 1000;
  // Each process queues its lines at once; the reader takes 1000 bytes every 2 ms, so the pipe is
  // mostly full and each retry finds only part of a big write's room.
  const script = `
    import { FdWriter } from ${JSON.stringify(writerModule)};
    const tag = process.argv[1];
    let dropped = 0;
    const writer = new FdWriter(1, { sync: false, maxQueuedBytes: 64 * 1024 * 1024, owned: false, onDropped: (count) => (dropped += count) });
    for (let index = 0; index < ${lines}; index += 1) writer.write('<' + tag + ':' + index + ':' + tag.repeat(300) + '>\\n');
    await writer.drain(60_000);
    if (dropped > 0) process.exitCode = 1;
  `;
  const writers = ['A', 'B'].map((tag) => spawn(process.execPath, ['--input-type=module', '-e', script, tag], { stdio: ['ignore', writeEnd, 'inherit'] }));
  const exits = writers.map((child) => new Promise<number | null>((resolve) => child.once('exit', resolve)));
  closeSync(writeEnd);
  try {
    let received = '';
    const chunk = Buffer.alloc(1000);
    const deadline = Date.now() + 60_000;
    for (let read = -1; read !== 0; ) {
      assert.ok(Date.now() < deadline, 'the writers finished within 60 s');
      try {
        read = readSync(reader, chunk, 0, chunk.length, null);
        received += chunk.toString('latin1', 0, read);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.equal(await Promise.all(exits), [0, 0], 'no line dropped');
    const got = received.split('\n').slice(0, -1);
    const torn = got.filter((line) => !/^<([AB]):\d+:\1{300}>$/.test(line));
    assert.equal(torn.slice(0, 3), [], `${torn.length} of ${got.length} lines torn`);
    for (const tag of ['A', 'B']) {
      const order = got.filter((line) => line.startsWith(`<${tag}:`)).map((line) => Number(line.split(':')[1]));
      assert.equal(order, Array.from({ length: lines }, (_, index) => index), `${tag}: every line, in order`);
    }
  } finally {
    for (const child of writers) child.kill();
    closeSync(reader);
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
