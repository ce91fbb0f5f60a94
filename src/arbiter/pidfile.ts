// The pidfile appears whole or not at all: a script, `corral ctl --pid` or an
// upgrade's watcher that reads it never finds it empty. It is written to a file
// of its own beside it and renamed into place (rename is atomic in one
// directory), as gunicorn does; the check at start creates nothing under its name.
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const scratchPath = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);

/** Writes `pid` to `path` in one step. */
export function writePidfile(path: string, pid: number): void {
  const scratch = scratchPath(path);
  const fd = openSync(scratch, 'w', 0o644);
  try {
    writeSync(fd, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(scratch, path);
  } catch (error) {
    unlinkSync(scratch);
    throw error;
  }
}

/** Throws what writePidfile would meet (a missing or read-only directory), leaving nothing behind. */
export function probePidfile(path: string): void {
  const scratch = scratchPath(path);
  closeSync(openSync(scratch, 'w', 0o644));
  unlinkSync(scratch);
}
