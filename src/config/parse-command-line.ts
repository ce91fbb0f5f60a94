// argv (+ environment) → validated Settings, using node's own parseArgs and the schema.
import { parseArgs } from 'node:util';
import { SettingError, UsageError } from '../errors.js';
import { type Env, type SettingSpec, type Settings, settingsSchema } from './schema.js';

export interface CommandLine {
  settings: Settings;
  appModule: string | undefined;
  help: boolean;
  version: boolean;
}

const flagName = (spec: SettingSpec) => (spec.short ? `-${spec.short}/--${spec.flag}` : `--${spec.flag}`);

/** Converts one raw string to the setting's type, or says what is allowed. */
export function convertSetting(spec: SettingSpec, raw: string, source = flagName(spec)): number | string {
  if (spec.type === 'int' || spec.type === 'number') {
    const value = Number(raw);
    const wanted = spec.type === 'int' ? 'a whole number' : 'a number';
    const bounds = [spec.min !== undefined ? `≥ ${spec.min}` : '', 'max' in spec && spec.max !== undefined ? `≤ ${spec.max}` : '']
      .filter(Boolean)
      .join(' and ');
    const allowed = `${wanted}${bounds ? ` ${bounds}` : ''}`;
    if (raw.trim() === '' || !Number.isFinite(value) || (spec.type === 'int' && !Number.isInteger(value))) {
      throw new SettingError(spec.name, `${source}: '${raw}' is not valid; use ${allowed}.`);
    }
    if ((spec.min !== undefined && value < spec.min) || ('max' in spec && spec.max !== undefined && value > spec.max)) {
      throw new SettingError(spec.name, `${source}: ${raw} is out of range; use ${allowed}.`);
    }
    return value;
  }
  if (spec.type === 'string' && spec.choices && !spec.choices.includes(raw)) {
    throw new SettingError(spec.name, `${source}: '${raw}' is not one of ${spec.choices.join(', ')}.`);
  }
  return raw;
}

function defaultFor(spec: SettingSpec, env: Env): unknown {
  const fromEnv = spec.env ? env[spec.env] : undefined;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (spec.type === 'list') return fromEnv.split(',').map((item) => item.trim());
    return convertSetting(spec, fromEnv, `environment variable ${spec.env}`);
  }
  return spec.type === 'list' ? [...spec.default] : spec.default;
}

export function parseCommandLine(argv: readonly string[], env: Env = process.env): CommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const spec of settingsSchema as readonly SettingSpec[]) {
    options[spec.flag] = { type: 'string', ...(spec.short ? { short: spec.short } : {}), ...(spec.type === 'list' ? { multiple: true } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs' own messages name the flag; add what to do.
    throw new UsageError(`${(error as Error).message.split('\n')[0]} Run 'corral --help' for the options.`);
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const settings: Record<string, unknown> = {};
  for (const spec of settingsSchema as readonly SettingSpec[]) {
    const raw = values[spec.flag];
    if (raw === undefined) settings[spec.name] = defaultFor(spec, env);
    else if (spec.type === 'list') settings[spec.name] = raw as string[];
    else settings[spec.name] = convertSetting(spec, raw as string);
  }
  if (parsed.positionals.length > 1) {
    throw new UsageError(`expected one APP_MODULE, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}.`);
  }
  return {
    settings: settings as Settings,
    appModule: parsed.positionals[0],
    help: values.help === true,
    version: values.version === true,
  };
}
