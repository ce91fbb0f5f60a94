// The only place that knows which kinds exist. Kinds load lazily, so the
// arbiter can check a name without importing a kind's server code.
import { CorralError } from '../errors.js';
import type { WorkerKind } from './contract.js';

const builtinKinds: Record<string, () => Promise<WorkerKind>> = {
  async: async () => (await import('./async.js')).asyncKind,
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

export async function loadKind(name: string): Promise<WorkerKind> {
  assertKnownKind(name);
  return builtinKinds[name]();
}
