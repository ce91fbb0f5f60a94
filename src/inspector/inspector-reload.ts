// What a reload (HUP) does to the inspector: its history, error-log lines and
// actions change at once; its address and the Stately receiver were fixed at
// start, so a change to those is said in the log (as a changed bind is) and
// waits for a restart.
import type { Settings } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { InspectorServer } from './inspector-server.js';

export function applyInspectorReload(before: Settings, after: Settings, inspector: InspectorServer | undefined, logger: Logger): void {
  if (after.inspector !== before.inspector) {
    logger.warning(
      before.inspector
        ? `Reload keeps the inspector at ${before.inspector}; a changed --inspector (${after.inspector ?? 'off'}) takes a restart.`
        : `Reload does not start the inspector; --inspector ${after.inspector} takes a restart.`,
    );
  }
  if (after.inspectorStately !== before.inspectorStately) {
    logger.warning(`Reload keeps --inspector-stately ${before.inspectorStately ?? 'off'}; a change (${after.inspectorStately ?? 'off'}) takes a restart.`);
  }
  inspector?.apply({ history: after.inspectorHistory, logLines: after.inspectorLogLines, actions: after.inspectorActions });
}
