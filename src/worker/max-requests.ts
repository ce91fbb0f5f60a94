// --max-requests: after serving its share (plus up to --max-requests-jitter more,
// so workers do not all leave at once) a worker asks the arbiter to replace it.
// It keeps serving until its replacement is ready and it is told to drain.
import type { Settings } from '../config/schema.js';
import type { RequestCounters, RequestObserver } from '../kinds/contract.js';

export function maxRequestsObserver(
  settings: Pick<Settings, 'maxRequests' | 'maxRequestsJitter'>,
  counters: RequestCounters,
  askToBeReplaced: (limit: number) => void,
  random: () => number = Math.random,
): RequestObserver | undefined {
  if (settings.maxRequests <= 0) return undefined;
  const limit = settings.maxRequests + Math.floor(random() * (settings.maxRequestsJitter + 1));
  let asked = false;
  return {
    finished() {
      if (asked || counters.served < limit) return;
      asked = true;
      askToBeReplaced(limit);
    },
  };
}
