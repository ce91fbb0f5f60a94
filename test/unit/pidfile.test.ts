// The pidfile is written beside itself and renamed into place; in a directory
// others can write, a link planted where the scratch file goes is never followed.
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { probePidfile, writePidfile } from '../../src/arbiter/pidfile.js';

const dir = mkdtempSync(join(tmpdir(), 'corral-pidfile-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('writes the pid whole and leaves no scratch file', () => {
  const path = join(dir, 'plain.pid');
  probePidfile(path);
  assert.equal(readdirSync(dir), [], 'the probe leaves nothing behind');
  writePidfile(path, 4242);
  assert.is(readFileSync(path, 'utf8'), '4242\n');
  writePidfile(path, 4343);
  assert.is(readFileSync(path, 'utf8'), '4343\n');
  assert.equal(readdirSync(dir), ['plain.pid']);
});

test('a link planted at a scratch name it could use does not make it write into another file', () => {
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  const path = join(dir, 'corral.pid');
  // The names a pid-derived scratch file would take, each a link to the victim.
  for (const pid of [process.pid, process.ppid]) symlinkSync(victim, join(dir, `.corral.pid.${pid}.tmp`));
  probePidfile(path);
  writePidfile(path, 777);
  assert.is(readFileSync(victim, 'utf8'), 'precious\n');
  assert.is(readFileSync(path, 'utf8'), '777\n');
});

test.run();
