// argv → the settings it names (typed), the APP_MODULE and the meta flags, using node's parseArgs.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { allowedValues, convertSetting } from './convert.js';
import { closestName } from './did-you-mean.js';
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
    throw new UsageError(`${source ? `${source}: ` : ''}${explainParseFailure(error as Error & { code?: string }, argv, options, source)} Run 'corral --help' for the options.`);
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

/** The setting a flag as typed (`--timeout`, `-t`) belongs to. */
function specForFlag(typed: string): SettingSpec | undefined {
  const name = typed.replace(/^-+/, '');
  return allSettings.find((spec) => (typed.startsWith('--') ? spec.flag === name || spec.aliases?.includes(name) : spec.short === name));
}

/** parseArgs' failures, said the way corral says them: the flag, what was wrong, and what to write. */
function explainParseFailure(error: Error & { code?: string }, argv: readonly string[], options: Record<string, Option>, source: string | undefined): string {
  const message = error.message.split('\n')[0];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const typed = /'(-[^'=]*)/.exec(message)?.[1] ?? message;
    const closest = typed.startsWith('--') ? closestName(typed.slice(2), Object.keys(options)) : undefined;
    return `unknown option ${typed}${closest ? `; did you mean --${closest}?` : '.'}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // The message names the flag as '-t, --timeout <value>', '--timeout' or '-t'.
    const typed = /--[\w-]+/.exec(message)?.[0] ?? /'(-\w)\b/.exec(message)?.[1];
    const spec = typed ? specForFlag(typed) : undefined;
    if (!spec) return message;
    const at = argv.findIndex((word, index) => specForFlag(word) === spec && argv[index + 1]?.startsWith('-'));
    const value = at >= 0 ? argv[at + 1] : undefined;
    if (/does not take an argument/.test(message)) return `${flagName(spec)} takes no value; give the flag alone.`;
    if (value === undefined || !/ambiguous/.test(message)) return `${flagName(spec)} needs a value: ${allowedValues(spec)}.`;
    // A value starting with '-': check it as a value, so a bad one is told with the valid range.
    convertSetting(spec, value, source ? `${source}: ${flagName(spec)}` : flagName(spec));
    return `${flagName(spec)}: '${value}' starts with '-' as an option does; to give it as the value, write --${spec.flag}=${value}.`;
  }
  return message;
}
