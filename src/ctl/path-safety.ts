// Whether a control socket, or the directory it lives in, is safe to trust:
// one another user controls could be swapped for a socket of theirs (so `ctl
// stop` would talk to an impostor) or for a symlink (so a chmod lands on a file
// of their choice). lstat sees a symlink where one was planted instead of
// following it; only a directory the operator named outright is followed.
import { execFileSync } from 'node:child_process';
import { type Stats, lstatSync, readlinkSync, statSync } from 'node:fs';
import { CorralError } from '../errors.js';

const myUid = () => process.getuid?.() ?? -1;

/** "uid 1001 (alice)": the name when the system knows it. */
export function describeOwner(uid: number): string {
  try {
    const name = execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).split(':')[0];
    return name ? `uid ${uid} (${name})` : `uid ${uid}`;
  } catch {
    return `uid ${uid}`;
  }
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

export class UnsafePathError extends CorralError {
  constructor(message: string) {
    super('CORRAL_ERR_UNSAFE_PATH', message);
    this.name = 'UnsafePathError';
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function linkTarget(path: string): string {
  try {
    return ` (to ${readlinkSync(path)})`;
  } catch {
    return '';
  }
}

/**
 * The default control directory ($XDG_RUNTIME_DIR/corral or $TMPDIR/corral-UID)
 * must be a real directory of this user's with no access for anyone else, as
 * tmux asks of /tmp/tmux-UID. `remedy` says what the reader can do instead.
 */
export function checkPrivateDirectory(directory: string, remedy: string): void {
  const stats = lstatOrUndefined(directory);
  if (!stats) return;
  const uid = myUid();
  const needed = `corral needs a directory of its own there (owned by ${describeOwner(uid)}, mode 0700, not a symbolic link), or another user could replace the control socket`;
  const removal = `Remove it (rm -r '${directory}') if nobody should have it, ${remedy}`;
  if (stats.isSymbolicLink()) throw new UnsafePathError(`${directory} is a symbolic link${linkTarget(directory)}, owned by ${describeOwner(stats.uid)}: ${needed}. ${removal}`);
  if (!stats.isDirectory()) throw new UnsafePathError(`${directory} is not a directory: ${needed}. ${removal}`);
  if (stats.uid !== uid || (stats.mode & 0o077) !== 0) {
    throw new UnsafePathError(`${directory} is owned by ${describeOwner(stats.uid)} with mode ${octal(stats.mode)}: ${needed}. ${removal}`);
  }
}

/**
 * The directory of a socket named outright (--control-socket, ctl --socket):
 * owned by this user or root, and nobody else may add or swap entries unless
 * the sticky bit keeps them to their own (as in /tmp). Followed if a symlink:
 * the operator named the path, and it is the directory it leads to that counts.
 */
export function checkSocketDirectory(directory: string, remedy: string): void {
  let stats: Stats;
  try {
    stats = statSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const uid = myUid();
  const owner = stats.uid === uid || stats.uid === 0;
  const shared = (stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0;
  if (owner && !shared) return;
  const why = !owner ? `is owned by ${describeOwner(stats.uid)}` : 'is writable by others and not sticky';
  throw new UnsafePathError(
    `${directory} ${why} (mode ${octal(stats.mode)}), so another user could swap the control socket in it for one of theirs. Use a directory owned by you or root that only its owner can write to, ${remedy}`,
  );
}

/** A control socket `corral ctl` may talk to: a socket, not a symlink, owned by the caller or root. */
export function checkControlSocket(path: string): void {
  const stats = lstatOrUndefined(path);
  if (!stats) return; // connect says it is missing
  if (stats.isSymbolicLink()) throw new UnsafePathError(`${path} is a symbolic link${linkTarget(path)}: name the control socket itself.`);
  if (!stats.isSocket()) throw new UnsafePathError(`${path} is not a socket: name a corral control socket.`);
  const uid = myUid();
  if (stats.uid !== uid && stats.uid !== 0) {
    throw new UnsafePathError(`${path} is owned by ${describeOwner(stats.uid)}, not by you (${describeOwner(uid)}) or root: it is not a corral of yours, and corral ctl does not talk to it.`);
  }
}
