// argv → the settings it names (typed), the APP_MODULE and the meta flags, using node's parseArgs.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { convertSetting } from './convert.js';
import { type SettingSpec, allSettings, flagName } from './schema.js';

export interface CommandLine {
  /** Only the settings given, by name. */
  values: Record<string, unknown>;
  appModule: string | undefined;
  help: boolean;
  version: boolean;
}

type Option = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

function optionsFor(spec: SettingSpec): Record<string, Option> {
  if (!spec.flag) return {};
  const option: Option = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.type === 'list' ? { multiple: true } : {}) };
  const options: Record<string, Option> = { [spec.flag]: { ...option, ...(spec.short ? { short: spec.short } : {}) } };
  for (const alias of spec.aliases ?? []) options[alias] = option;
  return options;
}

/** `source` names where the words came from in messages ('CORRAL_CMD_ARGS'), when not the command line. */
export function parseCommandLine(argv: readonly string[], source?: string): CommandLine {
  const options: Record<string, Option> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const spec of allSettings) Object.assign(options, optionsFor(spec));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs' own messages name the flag; add where and what to do.
    throw new UsageError(`${source ? `${source}: ` : ''}${(error as Error).message.split('\n')[0]} Run 'corral --help' for the options.`);
  }
  const given = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const values: Record<string, unknown> = {};
  for (const spec of allSettings) {
    const names = spec.flag ? [spec.flag, ...(spec.aliases ?? [])] : [];
    for (const name of names) {
      const raw = given[name];
      if (raw === undefined) continue;
      const where = source ? `${source}: ${flagName(spec)}` : flagName(spec);
      values[spec.name] = spec.type === 'list' ? [...((values[spec.name] as string[]) ?? []), ...(convertSetting(spec, raw, where) as string[])] : convertSetting(spec, raw, where);
    }
  }
  if (parsed.positionals.length > 1) {
    throw new UsageError(`expected one APP_MODULE, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}.`);
  }
  return { values, appModule: parsed.positionals[0], help: given.help === true, version: given.version === true };
}
