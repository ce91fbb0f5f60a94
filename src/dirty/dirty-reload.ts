// What a HUP cannot change in the dirty pool, said in the log as a changed bind
// is: the pool is started (or not) with the arbiter, and its router's message
// cap is fixed when it starts. A changed --dirty-app is applied: the rolling
// reload's new processes load the module the new config names.
import type { Settings } from '../config/schema.js';
import type { Logger } from '../log/logger.js';

type DirtySettings = Pick<Settings, 'dirtyApp' | 'dirtyMaxMessage'>;

export function warnOfDirtyRestartSettings(before: DirtySettings, after: DirtySettings, logger: Logger): void {
  if (!before.dirtyApp && after.dirtyApp) {
    logger.warning(`Reload does not start a dirty pool; --dirty-app ${after.dirtyApp} takes a restart.`);
  } else if (before.dirtyApp && !after.dirtyApp) {
    logger.warning(`Reload keeps the dirty pool of ${before.dirtyApp}; turning it off takes a restart.`);
  }
  if (before.dirtyApp && after.dirtyMaxMessage !== before.dirtyMaxMessage) {
    logger.warning(`Reload keeps --dirty-max-message ${before.dirtyMaxMessage}; a change (${after.dirtyMaxMessage}) takes a restart.`);
  }
}
