// --inspector-stately: the same inspection events, sent to Stately's tools
// through @statelyai/inspect, which users of those tools install themselves
// (corral does not depend on it). `sky` uses Stately Sky; a ws:// URL, a
// WebSocket receiver of the user's own (createWebSocketReceiver).
import type { InspectionEvent } from 'xstate';
import { CorralError, describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';

type Observer = ((event: InspectionEvent) => void) | { next?: (event: InspectionEvent) => void };

interface StatelyInspector {
  inspect: Observer;
  stop: () => void;
}

export interface StatelyLink {
  inspect(event: InspectionEvent): void;
  stop(): void;
}

export async function connectStately(target: string, logger: Logger): Promise<StatelyLink> {
  if (target !== 'sky' && !/^wss?:\/\/\S+$/.test(target)) {
    throw new CorralError('CORRAL_ERR_SETTING', `--inspector-stately: '${target}' is not 'sky' or a ws:// URL.`);
  }
  let stately: { createSkyInspector(options: object): StatelyInspector; createWebSocketInspector(options: { url: string }): StatelyInspector };
  try {
    stately = (await import('@statelyai/inspect' as string)) as typeof stately;
  } catch (error) {
    throw new CorralError(
      'CORRAL_ERR_SETTING',
      `--inspector-stately needs the @statelyai/inspect package, which corral does not install: npm install @statelyai/inspect (${describeError(error)}).`,
    );
  }
  const inspector =
    target === 'sky'
      ? stately.createSkyInspector({ onerror: (error: Error) => logger.warning(`Stately inspector: ${error.message}`) })
      : stately.createWebSocketInspector({ url: target });
  // Both start on their own (autoStart); starting one again would open a second connection.
  logger.info(`Inspection events also go to Stately's inspector (${target})`);
  const observer = inspector.inspect;
  return {
    inspect(event) {
      // A broken link to an optional tool must not take the arbiter down.
      try {
        if (typeof observer === 'function') observer(event);
        else observer.next?.(event);
      } catch (error) {
        logger.debug(`Stately inspector: ${describeError(error)}`);
      }
    },
    stop: () => inspector.stop(),
  };
}
