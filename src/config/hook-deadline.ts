// How long corral waits for a hook: a hook that hangs (a request that never
// answers, a promise that never settles) is given up on at its deadline, so the
// lifecycle it sits in (start, boot, reload, exit) carries on.
import type { HookName, Hooks } from './hooks.js';
import type { Settings } from './schema.js';

/** A hook ran past its deadline; what it was doing goes on unwatched. */
export class HookDeadlineError extends Error {
  constructor(
    readonly hook: HookName,
    readonly seconds: number,
  ) {
    super(`Hook ${hook} did not finish within ${seconds} s; continuing`);
    this.name = 'HookDeadlineError';
  }
}

/**
 * Hooks a worker waits on before it first reports to the arbiter, which takes a
 * worker silent for --timeout for a hung one: each gets at most a quarter of it.
 */
const WORKER_BOOT_HOOKS: ReadonlySet<HookName> = new Set(['sslContext', 'postFork', 'postWorkerInit']);

/** On the request path: called, never awaited, so there is nothing to bound (and no timer per request). */
const UNWAITED_HOOKS: ReadonlySet<HookName> = new Set(['preRequest', 'postRequest']);

type DeadlineSettings = Pick<Settings, 'hookTimeout' | 'timeout'>;

/** Seconds a worker waits on its own user code while it boots (boot hooks, its config file); 0 = no deadline. */
export function workerBootDeadline({ hookTimeout, timeout }: DeadlineSettings): number {
  if (timeout <= 0) return hookTimeout;
  return hookTimeout > 0 ? Math.min(hookTimeout, timeout / 4) : timeout / 4;
}

/** Seconds corral waits for hook `name`; 0 = no deadline. */
export function hookDeadline(settings: DeadlineSettings, name: HookName): number {
  return WORKER_BOOT_HOOKS.has(name) ? workerBootDeadline(settings) : settings.hookTimeout;
}

/** Settles as `work` does, or rejects with `onLate()` after `seconds` (0: waits for ever). The timer keeps the process alive meanwhile. */
export function withinDeadline<T>(work: Promise<T>, seconds: number, onLate: () => Error): Promise<T> {
  if (seconds <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onLate()), seconds * 1000);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * The same hooks, each bounded by its deadline: a returned promise that is still
 * pending then rejects with HookDeadlineError. A hook that returns at once is
 * untouched. Applied where hooks and the settings they came with are resolved,
 * so every caller (and a reload's new hooks) gets the bound.
 */
export function withDeadlines(hooks: Hooks, settings: DeadlineSettings): Hooks {
  const bounded: Hooks = {};
  for (const [key, hook] of Object.entries(hooks) as [HookName, (...args: unknown[]) => unknown][]) {
    const seconds = hookDeadline(settings, key);
    if (!hook || UNWAITED_HOOKS.has(key) || seconds <= 0) {
      bounded[key] = hook as never;
      continue;
    }
    bounded[key] = ((...args: unknown[]) => {
      const result = hook(...args);
      if (!result || typeof (result as PromiseLike<unknown>).then !== 'function') return result;
      return withinDeadline(Promise.resolve(result), seconds, () => new HookDeadlineError(key, seconds));
    }) as never;
  }
  return bounded;
}
