// Settings from every source, in gunicorn's order of precedence:
// defaults (and their environment variables) < config file < CORRAL_CMD_ARGS < command line.
import { ConfigError, SettingError } from '../errors.js';
import { type ConfigFile, DEFAULT_LOAD_DEADLINE, findConfigFile, loadConfigFile, settingsFromObject } from './config-file.js';
import { convertSetting } from './convert.js';
import { withDeadlines } from './hook-deadline.js';
import type { Hooks } from './hooks.js';
import { type CommandLine, parseCommandLine } from './parse-command-line.js';
import { type Env, type SettingSpec, type Settings, allSettings } from './schema.js';
import { splitArgs } from './split-args.js';

export interface ResolvedConfig {
  settings: Settings;
  hooks: Hooks;
  /** Absolute path of the config file used, if any. */
  configFile: string | undefined;
  /** Where each setting came from: 'command line', 'CORRAL_CMD_ARGS', the config file's path, 'default'. */
  sources: SettingSources;
  appModule: string | undefined;
  help: boolean;
  version: boolean;
}

function defaultFor(spec: SettingSpec, env: Env): unknown {
  const fromEnv = spec.env ? env[spec.env] : undefined;
  if (fromEnv !== undefined && fromEnv !== '') {
    const raw = spec.type === 'list' ? fromEnv.split(',').map((item) => item.trim()) : fromEnv;
    return convertSetting(spec, raw, `environment variable ${spec.env}`);
  }
  return spec.type === 'list' ? [...spec.default] : spec.default;
}

/** Settings that make no sense together: named, with what to change. */
function checkCombinations(settings: Settings, sourceOf: (name: string) => string) {
  for (const name of ['statsdPrefix', 'dogstatsdTags'] as const) {
    if (settings[name] && !settings.statsdHost) {
      const message = `${sourceOf(name)}: ${name} is set but statsdHost is not, so no metric would be sent. Set statsdHost (--statsd-host HOST:PORT) too.`;
      // Blame the file when the file set it, so the exit status says where to look.
      throw sourceOf(name).includes('/') ? new ConfigError(sourceOf(name), name, message) : new SettingError(name, message);
    }
  }
  if (settings.printConfig && settings.checkConfig) {
    throw new SettingError('printConfig', '--print-config and --check-config both exit at once; choose one.');
  }
}

type Layer = [values: Record<string, unknown> | undefined, source: string];

/** Each setting's source by name: 'command line', 'CORRAL_CMD_ARGS', 'serve()', a config file's path, or 'default'. */
export type SettingSources = Readonly<Record<string, string>>;

/** Each setting from the first layer that has it, else its default; then the combinations are checked. */
function layered(layers: Layer[], env: Env): { settings: Settings; sources: SettingSources } {
  const settings: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const spec of allSettings) {
    const layer = layers.find(([values]) => values && spec.name in values);
    settings[spec.name] = layer ? layer[0]![spec.name] : defaultFor(spec, env);
    sources[spec.name] = layer ? layer[1] : 'default';
  }
  checkCombinations(settings as Settings, (name) => sources[name]);
  return { settings: settings as Settings, sources };
}

/**
 * Checks an object of settings (camelCase keys, as in a config file) and fills
 * in the defaults; throws ConfigError/SettingError naming `source`, the key and
 * what is allowed. For tools that validate corral settings of their own.
 */
export function validateSettings(object: Record<string, unknown>, source = 'settings', env: Env = process.env): Settings {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    throw new ConfigError(source, undefined, `${source} must be an object of settings, not ${Array.isArray(object) ? 'an array' : object === null ? 'null' : typeof object}.`);
  }
  return layered([[settingsFromObject(object, source).values, source]], env).settings;
}

/**
 * Settings for serve(): defaults < the config file `configPath` (only when
 * given: embedding code is not surprised by a corral.config.js it did not name)
 * < the options object. Hooks from both, the object's winning.
 */
export async function resolveEmbeddedSettings(
  options: Record<string, unknown>,
  configPath: string | undefined,
  { env, cwd, extraKeys }: { env: Env; cwd: string; extraKeys: ReadonlySet<string> },
): Promise<{ settings: Settings; sources: SettingSources; hooks: Hooks; configFile: string | undefined }> {
  const given = settingsFromObject(options, 'serve()', extraKeys);
  const file = configPath ? findConfigFile(configPath, cwd) : undefined;
  const deadlineSeconds = (given.values.hookTimeout as number | undefined) ?? DEFAULT_LOAD_DEADLINE;
  const config: ConfigFile | undefined = file ? await loadConfigFile(file, { deadlineSeconds }) : undefined;
  const { settings, sources } = layered([[given.values, 'serve()'], [config?.values, file ?? '']], env);
  return { settings, sources, hooks: withDeadlines({ ...config?.hooks, ...given.hooks }, settings), configFile: file };
}

export async function resolveSettings(argv: readonly string[], env: Env, cwd: string): Promise<ResolvedConfig> {
  const commandLine = parseCommandLine(argv);
  const empty: CommandLine = { values: {}, appModule: undefined, help: false, version: false };
  if (commandLine.help || commandLine.version) {
    return { settings: {} as Settings, sources: {}, hooks: {}, configFile: undefined, appModule: undefined, help: commandLine.help, version: commandLine.version };
  }
  const fromEnvArgs = env.CORRAL_CMD_ARGS ? parseCommandLine(splitArgs(env.CORRAL_CMD_ARGS), 'CORRAL_CMD_ARGS') : empty;
  const configPath = (commandLine.values.config ?? fromEnvArgs.values.config) as string | undefined;
  const file = findConfigFile(configPath, cwd);
  // The file's own hookTimeout is not known before it has loaded.
  const deadlineSeconds = (commandLine.values.hookTimeout ?? fromEnvArgs.values.hookTimeout ?? DEFAULT_LOAD_DEADLINE) as number;
  const config: ConfigFile | undefined = file ? await loadConfigFile(file, { deadlineSeconds }) : undefined;

  const { settings, sources } = layered(
    [
      [commandLine.values, 'command line'],
      [fromEnvArgs.values, 'CORRAL_CMD_ARGS'],
      [config?.values, file ?? ''],
    ],
    env,
  );
  return {
    settings,
    sources,
    hooks: withDeadlines(config?.hooks ?? {}, settings),
    configFile: file,
    appModule: commandLine.appModule ?? fromEnvArgs.appModule ?? config?.app,
    help: false,
    version: false,
  };
}
