// The shape of a config file's export, for editors and tsc: every setting a
// config file may hold, typed as it is written there, and the hooks with
// the arguments corral passes them.
import type { Hooks } from './hooks.js';
import type { settingsSchema } from './schema.js';

type ConfigSpec = Exclude<(typeof settingsSchema)[number], { cliOnly: true }>;

/** A setting's value as a config file may write it (convert.ts takes these and more). */
type ConfigValue<S> = S extends { type: 'list' }
  ? string | string[] | (S extends { headerObject: true } ? Record<string, string | number> : never)
  : S extends { type: 'int' | 'number' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : (S extends { choices: readonly (infer Choice)[] } ? Choice : string) | (S extends { default: null } ? null : never);

/** The settings a config file may hold, by camelCase name; the command line overrides them. */
export type ConfigSettings = { [S in ConfigSpec as S['name']]?: ConfigValue<S> };

/** What a config file exports: settings and hooks. */
export type CorralConfig = ConfigSettings & Hooks;

/**
 * Returns its argument: it only gives the config object (or the possibly async
 * function returning one) its type, so that editors and tsc check the keys and
 * the hooks' arguments. `export default defineConfig({ workers: 4, whenReady: (settings) => … })`.
 */
export function defineConfig(config: CorralConfig): CorralConfig;
export function defineConfig(config: () => CorralConfig | Promise<CorralConfig>): () => CorralConfig | Promise<CorralConfig>;
export function defineConfig(config: CorralConfig | (() => CorralConfig | Promise<CorralConfig>)) {
  return config;
}
