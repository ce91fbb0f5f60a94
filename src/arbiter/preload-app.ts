// --preload: load the app once in the arbiter, so a broken app stops corral
// before any worker starts. Workers still load it themselves (they are new
// processes, not forks), so this is a check, not shared memory.
import { loadApp } from '../app/load-app.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export async function preloadApp(appModule: string, cwd: string, logger: Logger): Promise<boolean> {
  try {
    await loadApp(appModule, cwd);
    logger.info(`Preloaded app ${appModule}`);
    return true;
  } catch (error) {
    logger.error(`App failed to load. ${describeError(error)}`);
    return false;
  }
}
