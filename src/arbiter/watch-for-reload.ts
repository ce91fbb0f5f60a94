// --reload: node's own recursive fs.watch over the app's directory (and any
// --reload-extra-file), debounced, ignoring node_modules and dot-directories.
import { type FSWatcher, existsSync, statSync, watch } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import type { Logger } from '../log/logger.js';

const DEBOUNCE_MS = 200;
const IGNORED = /(^|[/\\])(node_modules|\.[^/\\]+)([/\\]|$)/;

/** node_modules and dot-directories (.git, .cache …) never trigger a reload. */
export const isIgnored = (relativePath: string) => IGNORED.test(relativePath);

export function watchForReload(roots: string[], onChange: (file: string) => void, logger: Logger): () => void {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let changed = '';
  const schedule = (file: string) => {
    changed = file;
    clearTimeout(timer);
    timer = setTimeout(() => onChange(changed), DEBOUNCE_MS);
  };
  for (const root of new Set(roots.map((path) => resolve(path)))) {
    if (!existsSync(root)) {
      logger.warning(`--reload: ${root} does not exist; not watching it.`);
      continue;
    }
    const isDirectory = statSync(root).isDirectory();
    const watcher = watch(isDirectory ? root : dirname(root), { recursive: isDirectory }, (_event, name) => {
      if (!name) return;
      const file = isDirectory ? `${root}${sep}${name}` : resolve(dirname(root), name);
      if (!isDirectory && file !== root) return;
      if (isIgnored(name)) return;
      schedule(file);
    });
    watcher.on('error', (error) => logger.warning(`--reload: stopped watching ${root}: ${error.message}`));
    watchers.push(watcher);
  }
  logger.info(`Watching for changes: ${[...new Set(roots)].join(', ')}`);
  return () => {
    clearTimeout(timer);
    watchers.forEach((watcher) => watcher.close());
  };
}
