// The only place that knows which kinds exist: the built-in ones by name, and
// custom ones as a module path (-k ./my-kind.js) or package (-k some-kind).
// Kinds load lazily; a custom kind is checked against the contract when loaded.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CorralError, describeError } from '../errors.js';
import type { ConnectionSource, WorkerKind } from './contract.js';

const builtinKinds: Record<string, () => Promise<WorkerKind>> = {
  async: async () => (await import('./async.js')).asyncKind,
  sync: async () => (await import('./sync.js')).syncKind,
  thread: async () => (await import('./thread.js')).threadKind,
};

export const kindNames = (): string[] => Object.keys(builtinKinds);

/** Where each built-in kind's connections come from, known without loading it (the arbiter never serves HTTP itself). */
const builtinConnections: Record<string, ConnectionSource> = { async: 'shared', sync: 'idle-accept', thread: 'shared' };

/** Built-in kinds that serve HTTP/1.x only, known without loading them. */
const builtinHttp1Only = new Set(['sync']);

/** Whether the kind named `name` serves HTTP/2 (--http-protocols h2); a custom kind is loaded to find out. */
export async function kindServesHttp2(name: string, cwd: string = process.cwd()): Promise<boolean> {
  if (name in builtinKinds) return !builtinHttp1Only.has(name);
  return (await loadKind(name, cwd)).http2 !== false;
}

const unknownKind = (name: string, why: string) =>
  new CorralError(
    'CORRAL_ERR_UNKNOWN_KIND',
    `-k/--worker-class: ${why}. Known kinds: ${kindNames().join(', ')}; or a module path (./my-kind.js) or package exporting a worker kind.`,
  );

/** What a custom kind module lacks, in words, or undefined when it meets the contract. */
export function contractProblems(candidate: unknown): string | undefined {
  if (!candidate || typeof candidate !== 'object') return 'it exports no worker kind object (export default { name, description, create })';
  const kind = candidate as Partial<WorkerKind>;
  const missing = [
    typeof kind.name !== 'string' && 'name (a string)',
    typeof kind.description !== 'string' && 'description (a string)',
    typeof kind.create !== 'function' && 'create(dependencies) (a function returning an actor logic)',
    kind.connections !== undefined && !['shared', 'dispatched', 'idle-accept'].includes(kind.connections) && "connections ('shared', 'dispatched' or 'idle-accept')",
  ].filter(Boolean);
  return missing.length ? `it is missing ${missing.join(', ')}` : undefined;
}

function resolveCustomKind(name: string, cwd: string): string {
  const looksLikePath = name.startsWith('.') || isAbsolute(name);
  if (looksLikePath) {
    const file = resolve(cwd, name);
    if (!existsSync(file)) throw unknownKind(name, `no kind module ${file}`);
    return file;
  }
  try {
    return createRequire(resolve(cwd, 'noop.js')).resolve(name);
  } catch {
    throw unknownKind(name, `unknown worker kind '${name}'`);
  }
}

/** Loads a built-in or custom kind; throws a CorralError naming what is wrong. */
export async function loadKind(name: string, cwd: string = process.cwd()): Promise<WorkerKind> {
  if (name in builtinKinds) return builtinKinds[name]();
  const file = resolveCustomKind(name, cwd);
  let namespace: { default?: unknown; kind?: unknown };
  try {
    namespace = (await import(pathToFileURL(file).href)) as { default?: unknown; kind?: unknown };
  } catch (error) {
    throw unknownKind(name, `kind module ${file} failed to load: ${describeError(error)}`);
  }
  const candidate = namespace.kind ?? namespace.default;
  const problem = contractProblems(candidate);
  if (problem) throw unknownKind(name, `${file} is not a worker kind: ${problem}`);
  return candidate as WorkerKind;
}

export const connectionsOf = (kind: WorkerKind): ConnectionSource => kind.connections ?? 'shared';

/** Whether the kind's workers take connections from the arbiter (all of them, or those not accepted while idle). */
export const takesDispatch = (kind: WorkerKind): boolean => connectionsOf(kind) !== 'shared';

/** How the kind named `name` takes its connections; a custom kind is loaded (and checked) to find out. */
export async function kindConnections(name: string, cwd: string = process.cwd()): Promise<ConnectionSource> {
  return builtinConnections[name] ?? connectionsOf(await loadKind(name, cwd));
}

/** Throws as loadKind does when `name` names no kind; a built-in one is not loaded for it. */
export async function checkKind(name: string, cwd: string = process.cwd()): Promise<void> {
  if (!(name in builtinKinds)) await loadKind(name, cwd);
}
