// Runs one server hook; a hook that throws or rejects is logged with its name and never takes the server down.
import type { Logger } from '../log/logger.js';
import type { HookName, Hooks } from './hooks.js';

export async function runHook(hooks: Hooks, name: HookName, logger: Logger, ...args: unknown[]): Promise<void> {
  const hook = hooks[name] as ((...args: unknown[]) => unknown) | undefined;
  if (!hook) return;
  try {
    await hook(...args);
  } catch (error) {
    logger.error(`Hook ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

/** For hooks on the request path: called synchronously, a returned promise is not waited for. */
export function runHookSync(hooks: Hooks, name: HookName, logger: Logger, ...args: unknown[]): void {
  const hook = hooks[name] as ((...args: unknown[]) => unknown) | undefined;
  if (!hook) return;
  const fail = (error: unknown) => logger.error(`Hook ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  try {
    const result = hook(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, fail);
  } catch (error) {
    fail(error);
  }
}
