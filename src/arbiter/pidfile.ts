// The pidfile appears whole or not at all: a script, `corral ctl --pid` or an
// upgrade's watcher that reads it never finds it empty. It is written to a file
// of its own beside it and renamed into place (rename is atomic in one
// directory), as gunicorn does; the check at start creates nothing under its name.
// The scratch file's name cannot be guessed and it is created new (O_EXCL), so in
// a directory others can write (/tmp) nobody can plant a link there that would
// make a root arbiter write into a file of their choosing.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const scratchPath = (path: string) => join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
/** Created, never opened if it exists: a link planted under its name fails with EEXIST instead of being followed. */
const createNew = (scratch: string) => openSync(scratch, 'wx', 0o644);

/** Writes `pid` to `path` in one step. */
export function writePidfile(path: string, pid: number): void {
  const scratch = scratchPath(path);
  const fd = createNew(scratch);
  try {
    writeSync(fd, `${pid}\n`);
  } catch (error) {
    // ENOSPC and the like: no scratch file is left behind (each has a name of its own).
    closeSync(fd);
    unlinkSync(scratch);
    throw error;
  }
  closeSync(fd);
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
  closeSync(createNew(scratch));
  unlinkSync(scratch);
}
