// --reload: one fs.watch per directory of the app's tree (and one on the
// directory of each --reload-extra-file), debounced, ignoring node_modules and
// dot-directories.
//
// Directories are watched, not files, because editors save atomically: vim,
// `sed -i` and `git checkout` write a temporary file and rename it over the old
// one. A watch on the old file (node 20's recursive fs.watch on Linux watches
// files) goes on watching an inode no longer in the tree, and later saves are
// never seen; a directory's watch sees every name that changes in it. A
// directory that appears is watched from then on.
import { type FSWatcher, existsSync, lstatSync, readdirSync, statSync, watch } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Logger } from '../log/logger.js';

const DEBOUNCE_MS = 200;
const IGNORED = /(^|[/\\])(node_modules|\.[^/\\]+)([/\\]|$)/;

/** node_modules and dot-directories (.git, .cache …) never trigger a reload. */
export const isIgnored = (relativePath: string) => IGNORED.test(relativePath);

/**
 * Which directory is at `path` (undefined: none, or gone): its inode and birth
 * time, since a directory removed and made again often gets the same inode.
 */
const directoryIdentity = (path: string) => {
  try {
    // lstat: a symbolic link to a directory is not followed, so a link loop cannot make the walk endless.
    const stats = lstatSync(path);
    return stats.isDirectory() ? `${stats.ino}:${stats.birthtimeMs}` : undefined;
  } catch {
    return undefined;
  }
};

const advice = (code: string | undefined) =>
  code === 'ENOSPC' ? ' (out of inotify watches: raise fs.inotify.max_user_watches, or watch less with --reload-extra-file)' : code === 'EMFILE' ? ' (out of file descriptors: raise ulimit -n)' : '';

export function watchForReload(roots: string[], onChange: (file: string) => void, logger: Logger): () => void {
  const watchers = new Map<string, FSWatcher>();
  /** Which directory each watch began on: one removed and made again under the same name needs a new watch. */
  const identities = new Map<string, string>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  // A save touches several names (a temporary file, a backup, the file itself): the one reported is the last still there.
  let lastChanged = '';
  let lastPresent: string | undefined;
  const schedule = (file: string) => {
    lastChanged = file;
    if (existsSync(file)) lastPresent = file;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const file = lastPresent ?? lastChanged;
      lastPresent = undefined;
      onChange(file);
    }, DEBOUNCE_MS);
  };

  const forget = (directory: string) => {
    for (const [path, watcher] of watchers) {
      if (path === directory || path.startsWith(directory + sep)) {
        watcher.close();
        watchers.delete(path);
        identities.delete(path);
      }
    }
  };

  /** Watches `directory`, calling `onName` with each name that changes in it. */
  const watchDirectory = (directory: string, key: string, onName: (name: string) => void): boolean => {
    if (closed || watchers.has(key)) return false;
    let watcher: FSWatcher;
    try {
      watcher = watch(directory, (_event, name) => {
        if (name) onName(name.toString());
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Gone before it could be watched: nothing to watch.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') logger.warning(`--reload: cannot watch ${directory}: ${(error as Error).message}${advice(code)}`);
      return false;
    }
    watcher.on('error', (error: NodeJS.ErrnoException) => {
      logger.warning(`--reload: stopped watching ${directory}: ${error.message}${advice(error.code)}`);
      forget(key);
    });
    watchers.set(key, watcher);
    return true;
  };

  /** Watches `directory` and every directory below it that is not ignored; `appeared`: files already in it are news too. */
  const watchTree = (directory: string, appeared = false) => {
    const watching = watchDirectory(directory, directory, (name) => {
      if (isIgnored(name)) return;
      const path = join(directory, name);
      schedule(path);
      // A directory made or moved in is watched from now on; one removed or moved away is forgotten.
      const identity = directoryIdentity(path);
      if (identity !== identities.get(path)) forget(path);
      if (identity !== undefined) watchTree(path, true);
    });
    if (!watching) return;
    const identity = directoryIdentity(directory);
    if (identity !== undefined) identities.set(directory, identity);
    let entries;
    try {
      entries = readdirSync(directory, { withFileTypes: true });
    } catch {
      return; // removed meanwhile: its watcher reports it
    }
    for (const entry of entries) {
      if (isIgnored(entry.name)) continue;
      if (entry.isDirectory()) watchTree(join(directory, entry.name), appeared);
      // Written before its directory's watch began (mkdir -p, then a file; or a directory moved in).
      else if (appeared) schedule(join(directory, entry.name));
    }
  };

  const watched: string[] = [];
  for (const root of new Set(roots.map((path) => resolve(path)))) {
    if (!existsSync(root)) {
      logger.warning(`--reload: ${root} does not exist; not watching it.`);
      continue;
    }
    watched.push(root);
    if (statSync(root).isDirectory()) {
      watchTree(root);
    } else {
      // A file: its directory is watched, for the same reason, and only its own name counts.
      const name = basename(root);
      watchDirectory(dirname(root), `${root}${sep}(file)`, (changed) => {
        if (changed === name) schedule(root);
      });
    }
  }
  logger.info(`Watching for changes: ${watched.join(', ')}`);
  return () => {
    closed = true;
    clearTimeout(timer);
    watchers.forEach((watcher) => watcher.close());
    watchers.clear();
  };
}
