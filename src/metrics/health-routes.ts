// GET /livez and GET /readyz: what load balancers and Kubernetes probe. The
// answers are read from the arbiter chart's snapshot (the chart decides what
// ready means: `reportsReady`); this only renders them.
import { readyWorkerCount, reportsReady } from '../../machines/arbiter.js';
import { stateText } from '../inspector/statechart-model.js';
import type { RouteAnswer, Routes } from './metrics-server.js';

export const LIVENESS_PATH = '/livez';
export const READINESS_PATH = '/readyz';

/** The part of the arbiter's snapshot the answers need. */
export type ArbiterView = Parameters<typeof reportsReady>[0] & { status: string; value: unknown };

const plain = (status: number, body: string): RouteAnswer => ({ status, body: `${body}\n` });

/** `view` is undefined until the arbiter's chart has started (booting). */
export function healthRoutes(view: () => ArbiterView | undefined): Routes {
  return {
    // Answered by the arbiter's own event loop: if this answers, the loop is alive.
    [LIVENESS_PATH]: () => (view()?.status === 'done' ? plain(503, 'stopped') : plain(200, 'alive')),
    [READINESS_PATH]: () => {
      const snapshot = view();
      if (!snapshot) return plain(503, 'not ready: booting');
      if (reportsReady(snapshot)) return plain(200, `ready: ${readyWorkerCount(snapshot.context)} worker(s) ready`);
      const where = snapshot.status === 'active' ? stateText(snapshot.value) : 'stopped';
      return plain(503, `not ready: ${where}, ${readyWorkerCount(snapshot.context)} worker(s) ready`);
    },
  };
}
