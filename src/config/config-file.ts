// Finds and loads the config file: settings and hooks from a .js/.mjs/.cjs/.json
// module exporting an object, or a (possibly async) function returning one.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, describeError } from '../errors.js';
import { convertSetting } from './convert.js';
import { type Hooks, hookNames } from './hooks.js';
import { allSettings, settingByName } from './schema.js';

export const DEFAULT_CONFIG_FILES = ['corral.config.js', 'corral.config.mjs', 'corral.config.cjs', 'corral.config.json'];

export interface ConfigFile {
  file: string;
  values: Record<string, unknown>;
  hooks: Hooks;
}

export function findConfigFile(explicit: string | null | undefined, cwd: string): string | undefined {
  if (explicit) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new ConfigError(file, undefined, `config file ${file} does not exist. Check -c/--config.`);
    return file;
  }
  return DEFAULT_CONFIG_FILES.map((name) => resolve(cwd, name)).find((file) => existsSync(file));
}

const snakeToCamel = (key: string) => key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

function suggestion(key: string): string {
  const camel = snakeToCamel(key);
  const known = [...allSettings.filter((spec) => !spec.cliOnly).map((spec) => spec.name), ...hookNames];
  const match = known.find((name) => name === camel || name.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ''));
  return match ? ` Did you mean '${match}'?` : ' See docs/settings.md for the keys.';
}

let loads = 0;

/** Imports the file as it is now: a reload (HUP) must see edits, not the module cache. */
function freshImport(file: string): { default?: unknown } | Promise<{ default?: unknown }> {
  if (extname(file) === '.cjs') {
    const require = createRequire(file);
    delete require.cache[require.resolve(file)];
    return { default: require(file) };
  }
  loads += 1;
  return import(`${pathToFileURL(file).href}?load=${loads}`) as never;
}

async function importConfig(file: string): Promise<unknown> {
  if (extname(file) === '.json') {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(file, undefined, `${file} is not valid JSON: ${describeError(error)}`);
    }
  }
  let namespace: { default?: unknown };
  try {
    namespace = await freshImport(file);
  } catch (error) {
    throw new ConfigError(file, undefined, `config file ${file} failed to load: ${describeError(error)}`);
  }
  let exported: unknown = namespace.default ?? namespace;
  if (typeof exported === 'function') {
    try {
      exported = await (exported as () => unknown)();
    } catch (error) {
      throw new ConfigError(file, undefined, `the function exported by config file ${file} threw: ${describeError(error)}`);
    }
  }
  return exported;
}

export async function loadConfigFile(file: string): Promise<ConfigFile> {
  const exported = await importConfig(file);
  if (exported === null || typeof exported !== 'object' || Array.isArray(exported)) {
    throw new ConfigError(
      file,
      undefined,
      `config file ${file} must export an object of settings (or a function returning one), not ${Array.isArray(exported) ? 'an array' : exported === null ? 'null' : typeof exported}.`,
    );
  }
  return { file, ...settingsFromObject(exported as Record<string, unknown>, file) };
}

/**
 * Checks an object of settings and hooks by camelCase name, as a config file
 * exports or embedding code passes to serve(); `source` names it in errors.
 * `extraKeys` are taken by the caller and skipped here.
 */
export function settingsFromObject(
  object: Record<string, unknown>,
  source: string,
  extraKeys: ReadonlySet<string> = new Set(),
): { values: Record<string, unknown>; hooks: Hooks } {
  const values: Record<string, unknown> = {};
  const hooks: Hooks = {};
  for (const [key, raw] of Object.entries(object)) {
    if (raw === undefined || extraKeys.has(key)) continue;
    if (hookNames.has(key)) {
      if (typeof raw !== 'function') throw new ConfigError(source, key, `${source}: hook '${key}' must be a function, not ${typeof raw}.`);
      hooks[key as keyof Hooks] = raw as never;
      continue;
    }
    const spec = settingByName.get(key);
    if (!spec || spec.cliOnly) throw new ConfigError(source, key, `${source}: unknown setting '${key}'.${suggestion(key)}`);
    try {
      values[key] = convertSetting(spec, raw, `${source}: ${key}`);
    } catch (error) {
      throw new ConfigError(source, key, describeError(error));
    }
  }
  return { values, hooks };
}
