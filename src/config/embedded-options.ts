// The options serve() and startWorker() share: `app` checked, `bind` and
// `kind` turned into the settings they stand for, the rest left to the schema.
import { parseAppModule } from '../app/app-module.js';
import { CorralError } from '../errors.js';

export interface EmbeddedOptions {
  app?: unknown;
  bind?: string | string[];
  kind?: string;
  cwd?: string;
  config?: string;
  [key: string]: unknown;
}

/** Keys of the options that are not settings of the schema. */
export const OWN_KEYS: ReadonlySet<string> = new Set(['app', 'kind', 'cwd', 'config', 'handleSignals']);

export function embeddedInput(options: EmbeddedOptions, caller: string): { app: string; given: Record<string, unknown> } {
  if (options === null || typeof options !== 'object') {
    throw new CorralError('CORRAL_ERR_ARGUMENT', `${caller} takes an options object ({ app, bind, kind, … }), not ${options === null ? 'null' : typeof options}.`);
  }
  const { app, kind, bind, ...rest } = options;
  if (typeof app !== 'string' || app === '') {
    throw new CorralError(
      'CORRAL_ERR_ARGUMENT',
      `${caller}: \`app\` must be an APP_MODULE string such as './app.js' or 'app:server' (workers import it themselves, so not the app object).`,
    );
  }
  parseAppModule(app);
  const given: Record<string, unknown> = { ...rest };
  if (bind !== undefined) given.bind = typeof bind === 'string' ? [bind] : bind;
  if (kind !== undefined) given.workerClass = kind;
  return { app, given };
}
