// The only place that knows which kinds exist. Kinds load lazily, so the
// arbiter can check a name (and how the kind gets its connections) without
// importing a kind's server code.
import { CorralError } from '../errors.js';
import type { ConnectionSource, WorkerKind } from './contract.js';

interface KindEntry {
  load: () => Promise<WorkerKind>;
  connections: ConnectionSource;
}

const builtinKinds: Record<string, KindEntry> = {
  async: { load: async () => (await import('./async.js')).asyncKind, connections: 'shared' },
  sync: { load: async () => (await import('./sync.js')).syncKind, connections: 'dispatched' },
};

export const kindNames = (): string[] => Object.keys(builtinKinds);

export function assertKnownKind(name: string): void {
  if (!(name in builtinKinds)) {
    throw new CorralError(
      'CORRAL_ERR_UNKNOWN_KIND',
      `-k/--worker-class: unknown worker kind '${name}'. Known kinds: ${kindNames().join(', ')}.`,
    );
  }
}

/** How workers of this kind get their connections (see ConnectionSource). */
export function connectionSourceOf(name: string): ConnectionSource {
  assertKnownKind(name);
  return builtinKinds[name].connections;
}

export async function loadKind(name: string): Promise<WorkerKind> {
  assertKnownKind(name);
  return builtinKinds[name].load();
}
