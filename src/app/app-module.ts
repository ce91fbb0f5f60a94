// APP_MODULE = module[:export], where export may be a factory call: `create()`, `create('arg')`.
import { UsageError } from '../errors.js';

export interface AppModuleSpec {
  module: string;
  exportName: string;
  /** Present when the export is a factory to call, with its arguments. */
  factoryArgs: unknown[] | undefined;
}

const SPEC = /^(.+?)(?::([A-Za-z_$][\w$]*)(?:\((.*)\))?)?$/s;

function parseArgs(text: string, raw: string): unknown[] {
  if (text.trim() === '') return [];
  // Arguments are literals: JSON, with single-quoted strings allowed.
  const json = text.replace(/'((?:[^'\\]|\\.)*)'/g, (_, inner: string) => JSON.stringify(inner.replace(/\\'/g, "'")));
  try {
    return JSON.parse(`[${json}]`) as unknown[];
  } catch {
    throw new UsageError(`APP_MODULE '${raw}': factory arguments must be literals (strings, numbers, true/false/null, JSON).`);
  }
}

export function parseAppModule(raw: string): AppModuleSpec {
  const match = SPEC.exec(raw.trim());
  if (!match || !match[1]) throw new UsageError(`APP_MODULE '${raw}' is not module[:export].`);
  const called = match[0].endsWith(')') && match[3] !== undefined;
  return {
    module: match[1],
    exportName: match[2] ?? 'default',
    factoryArgs: called ? parseArgs(match[3], raw) : undefined,
  };
}
