// Runs one server hook; a hook that throws, rejects or passes its deadline is
// logged with its name and never takes the server down.
import type { Logger } from '../log/logger.js';
import { HookDeadlineError } from './hook-deadline.js';
import type { HookName, Hooks } from './hooks.js';

/** The arguments hook `name` is declared with: what corral passes is checked against what users are told. */
type HookArguments<Name extends HookName> = Parameters<NonNullable<Hooks[Name]>>;

/** The log line for a hook that failed: past its deadline, or what it threw. */
export function hookFailureMessage(name: HookName, error: unknown): string {
  if (error instanceof HookDeadlineError) return error.message;
  return `Hook ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

export async function runHook<Name extends HookName>(hooks: Hooks, name: Name, logger: Logger, ...args: HookArguments<Name>): Promise<void> {
  const hook = hooks[name] as ((...args: HookArguments<Name>) => unknown) | undefined;
  if (!hook) return;
  try {
    await hook(...args);
  } catch (error) {
    logger.error(hookFailureMessage(name, error));
  }
}

/** For hooks on the request path: called synchronously, a returned promise is not waited for. */
export function runHookSync<Name extends HookName>(hooks: Hooks, name: Name, logger: Logger, ...args: HookArguments<Name>): void {
  const hook = hooks[name] as ((...args: HookArguments<Name>) => unknown) | undefined;
  if (!hook) return;
  const fail = (error: unknown) => logger.error(hookFailureMessage(name, error));
  try {
    const result = hook(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, fail);
  } catch (error) {
    fail(error);
  }
}
