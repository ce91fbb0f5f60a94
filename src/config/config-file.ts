// Finds and loads the config file: settings and hooks from a .js/.mjs/.cjs/.json
// module (.ts/.mts/.cts with a TypeScript loader, see typescript-loader.ts)
// exporting an object, or a (possibly async) function returning one.
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAppModule } from '../app/app-module.js';
import { isTypeScript, prepareTypeScript } from '../app/typescript-loader.js';
import { ConfigError, describeError } from '../errors.js';
import { convertSetting } from './convert.js';
import { closestName } from './did-you-mean.js';
import { withinDeadline } from './hook-deadline.js';
import { type Hooks, hookNames } from './hooks.js';
import { allSettings, settingByName } from './schema.js';

export const DEFAULT_CONFIG_FILES = [
  'corral.config.js',
  'corral.config.mjs',
  'corral.config.cjs',
  'corral.config.json',
  'corral.config.ts',
  'corral.config.mts',
  'corral.config.cts',
];

export interface ConfigFile {
  file: string;
  values: Record<string, unknown>;
  hooks: Hooks;
  /** APP_MODULE from the file's `app` key (gunicorn's wsgi_app); one on the command line wins. */
  app: string | undefined;
}

/** Keys a config file may have besides settings and hooks. */
const FILE_KEYS: ReadonlySet<string> = new Set(['app']);

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
  const known = [...allSettings.filter((spec) => !spec.cliOnly).map((spec) => spec.name), ...hookNames, ...FILE_KEYS];
  const match =
    known.find((name) => name === camel || name.toLowerCase() === key.toLowerCase().replace(/[_-]/g, '')) ?? closestName(camel, known);
  return match ? ` Did you mean '${match}'?` : ' See docs/settings.md for the keys.';
}

function appFrom(object: Record<string, unknown>, file: string): string | undefined {
  const app = object.app;
  if (app === undefined) return undefined;
  if (typeof app !== 'string' || app.trim() === '') {
    throw new ConfigError(file, 'app', `${file}: app must be an APP_MODULE string such as './app.js' or 'app:server', not ${JSON.stringify(app) ?? typeof app}.`);
  }
  try {
    parseAppModule(app);
  } catch (error) {
    throw new ConfigError(file, 'app', `${file}: app: ${describeError(error)}`);
  }
  return app;
}

let loads = 0;

/** Imports the file as it is now: a reload (HUP) must see edits, not the module cache. */
function freshImport(file: string): { default?: unknown } | Promise<{ default?: unknown }> {
  if (extname(file) === '.cjs' || extname(file) === '.cts') {
    const require = createRequire(file);
    delete require.cache[require.resolve(file)];
    return { default: require(file) };
  }
  // A file node (or tsx) runs as CommonJS although it is imported is cached by its path, query or not.
  delete createRequire(file).cache[file];
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
  if (isTypeScript(file)) {
    try {
      await prepareTypeScript([dirname(file), process.cwd()]);
    } catch (error) {
      throw new ConfigError(file, undefined, `config file ${file} is TypeScript, and ${describeError(error)}`);
    }
  }
  let namespace: { default?: unknown };
  try {
    namespace = await freshImport(file);
  } catch (error) {
    throw new ConfigError(file, undefined, `config file ${file} failed to load: ${describeError(error)}`);
  }
  let exported: unknown = namespace.default ?? namespace;
  // TypeScript compiled to CommonJS (tsx, in a package without "type": "module") keeps `export default` as exports.default.
  if (exported !== null && typeof exported === 'object' && (exported as { __esModule?: unknown }).__esModule === true && 'default' in exported) {
    exported = exported.default;
  }
  if (typeof exported === 'function') {
    try {
      exported = await (exported as () => unknown)();
    } catch (error) {
      throw new ConfigError(file, undefined, `the function exported by config file ${file} threw: ${describeError(error)}`);
    }
  }
  return exported;
}

/** --hook-timeout's default: how long a config file may take to load when nothing says otherwise. */
export const DEFAULT_LOAD_DEADLINE = settingByName.get('hookTimeout')!.default as number;

/**
 * Runs the file's own code (its import, the function it exports) so that it can
 * neither end the process nor hold it for ever: process.exit called by that code
 * fails the load (at start the CLI exits 1 naming the file; on a reload the old
 * workers keep serving), and so does passing `deadlineSeconds` (0: none).
 */
async function loadGuarded(file: string, deadlineSeconds: number): Promise<unknown> {
  // Marks the file's code and all it imports or schedules, so that only its process.exit calls are refused.
  const loading = new AsyncLocalStorage<true>();
  const { exit } = process;
  let exitCalled: string | undefined;
  const exitRefusal = (code: string) =>
    new ConfigError(file, undefined, `config file ${file} called process.exit(${code}) while loading; a config file exports its settings and must not end the process.`);
  // Fails the load at once, even when the call came from a timer while the import still waits.
  let refused!: (error: ConfigError) => void;
  const exitRefused = new Promise<never>((_, reject) => (refused = reject));
  process.exit = ((code?: number | string | null) => {
    if (!loading.getStore()) return Reflect.apply(exit, process, [code]) as never;
    exitCalled ??= String(code ?? process.exitCode ?? 0);
    refused(exitRefusal(exitCalled));
    // Returns rather than throws: thrown from a timer it would be an uncaught exception in the arbiter.
    return undefined as never;
  }) as typeof process.exit;
  // With no deadline, a load waiting on nothing lets the loop run dry and node end with 0: say why, and fail.
  const ranDry = () => {
    process.stderr.write(`Error: config file ${file} never finished loading: it waits on a promise nothing will settle (a top-level await?).\n`);
    process.exitCode = 1;
  };
  process.once('beforeExit', ranDry);
  try {
    const exported = await withinDeadline(
      Promise.race([loading.run(true, () => importConfig(file)), exitRefused]),
      deadlineSeconds,
      () =>
        new ConfigError(
          file,
          undefined,
          `config file ${file} did not finish loading within ${deadlineSeconds} s (a top-level await, or a promise its function returned, that never settles?). If it needs longer, raise --hook-timeout.`,
        ),
    );
    return exported;
  } catch (error) {
    // Code after the refused call may have failed in its turn: the call is the cause to report.
    throw exitCalled !== undefined ? exitRefusal(exitCalled) : error;
  } finally {
    process.exit = exit;
    process.off('beforeExit', ranDry);
    // No lasting cost: async context tracking stops with the last storage disabled.
    loading.disable();
  }
}

export async function loadConfigFile(file: string, { deadlineSeconds = DEFAULT_LOAD_DEADLINE } = {}): Promise<ConfigFile> {
  const exported = await loadGuarded(file, deadlineSeconds);
  if (exported === null || typeof exported !== 'object' || Array.isArray(exported)) {
    throw new ConfigError(
      file,
      undefined,
      `config file ${file} must export an object of settings (or a function returning one), not ${Array.isArray(exported) ? 'an array' : exported === null ? 'null' : typeof exported}.`,
    );
  }
  const object = exported as Record<string, unknown>;
  return { file, ...settingsFromObject(object, file, FILE_KEYS), app: appFrom(object, file) };
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
