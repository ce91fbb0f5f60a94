#!/usr/bin/env node
// `corral [OPTIONS] APP_MODULE`: resolve the settings, then run the arbiter.
import { existsSync, statSync } from 'node:fs';
import { loadApp } from '../app/load-app.js';
import { parseAppModule } from '../app/app-module.js';
import { runArbiter } from '../arbiter/run-arbiter.js';
import { helpText } from '../config/help.js';
import { printConfig } from '../config/print-config.js';
import { type ResolvedConfig, resolveSettings } from '../config/resolve-settings.js';
import { ConfigError, CorralError, UsageError, describeError } from '../errors.js';
import { assertKnownKind, kindNames } from '../kinds/registry.js';
import { assertWritable } from '../log/log-file.js';
import { createLogger } from '../log/logger.js';
import { version } from '../version.js';

/** Exit status for a command line the user must fix, as other CLIs use. */
const EXIT_USAGE = 2;

function fail(message: string, status: number): never {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(status);
}

/** Config-file problems exit 1 (as gunicorn's); command-line ones 2. */
const statusFor = (error: unknown) => (error instanceof ConfigError ? 1 : EXIT_USAGE);

/** --chdir and -e act on this process, so the app and every worker see them. */
function applyProcessSettings({ settings }: ResolvedConfig) {
  if (settings.chdir) {
    if (!existsSync(settings.chdir) || !statSync(settings.chdir).isDirectory()) {
      throw new ConfigError('', 'chdir', `--chdir: ${settings.chdir} is not a directory.`);
    }
    process.chdir(settings.chdir);
  }
  for (const pair of settings.rawEnv) {
    const at = pair.indexOf('=');
    process.env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  for (const [path, role, flag] of [
    [settings.errorlog, 'error log', '--error-logfile'],
    [settings.accesslog, 'access log', '--access-logfile'],
    [settings.pidfile, 'pidfile', '-p/--pid'],
  ] as const) {
    if (path && path !== '-') assertWritable(path, role, flag);
  }
}

async function main(argv: string[]): Promise<number> {
  let config: ResolvedConfig;
  try {
    config = await resolveSettings(argv, process.env, process.cwd());
    if (config.help) {
      process.stdout.write(helpText(kindNames()));
      return 0;
    }
    if (config.version) {
      process.stdout.write(`corral ${version}\n`);
      return 0;
    }
    if (config.settings.printConfig) {
      process.stdout.write(printConfig(config.settings, config.hooks));
      return 0;
    }
    if (!config.appModule) throw new UsageError("No application module specified. Usage: corral [OPTIONS] APP_MODULE (see 'corral --help').");
    parseAppModule(config.appModule);
  } catch (error) {
    if (error instanceof CorralError) fail(error.message, statusFor(error));
    throw error;
  }
  try {
    assertKnownKind(config.settings.workerClass);
    applyProcessSettings(config);
  } catch (error) {
    fail(describeError(error), 1);
  }
  if (config.settings.checkConfig) {
    try {
      await loadApp(config.appModule, process.cwd());
    } catch (error) {
      fail(describeError(error), 1);
    }
    process.stdout.write(`Config and app ${config.appModule} are fine.\n`);
    return 0;
  }
  const { settings } = config;
  process.title = `corral: master [${settings.procName ?? config.appModule}]`;
  const logger = createLogger({ level: settings.logLevel as never, format: settings.logFormat as 'text' | 'json', path: settings.errorlog });
  return runArbiter({ ...config, appModule: config.appModule, cwd: process.cwd(), logger });
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => fail(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1),
);
