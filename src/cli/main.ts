#!/usr/bin/env node
// `corral [OPTIONS] APP_MODULE`: resolve the settings, then run the arbiter.
import { chownSync, existsSync, statSync } from 'node:fs';
import { type Identity, parseUmask, resolveIdentity } from '../config/identity.js';
import { loadApp } from '../app/load-app.js';
import { parseAppModule } from '../app/app-module.js';
import { runArbiter } from '../arbiter/run-arbiter.js';
import { helpText } from '../config/help.js';
import { printConfig } from '../config/print-config.js';
import { type ResolvedConfig, resolveSettings } from '../config/resolve-settings.js';
import { ConfigError, CorralError, UsageError, describeError } from '../errors.js';
import { kindNames, loadKind } from '../kinds/registry.js';
import { assertWritable } from '../log/log-file.js';
import { createLogger } from '../log/logger.js';
import { checkMetricsSettings } from '../metrics/check-metrics-settings.js';
import { logLineCounter } from '../metrics/log-line-counter.js';
import { statsdFromSettings } from '../metrics/statsd.js';
import { version } from '../version.js';

/** Exit status for a command line the user must fix, as other CLIs use. */
const EXIT_USAGE = 2;

function fail(message: string, status: number): never {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(status);
}

/** Config-file problems exit 1 (as gunicorn's); command-line ones 2. */
const statusFor = (error: unknown) => (error instanceof ConfigError ? 1 : EXIT_USAGE);

/** --umask, --chdir and -e act on this process, so the app and every worker see them. */
function applyProcessSettings({ settings }: ResolvedConfig): Identity | undefined {
  const umask = parseUmask(settings.umask);
  if (umask !== undefined) process.umask(umask);
  const identity = resolveIdentity(settings.user, settings.group);
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
    if (path && path !== '-') {
      assertWritable(path, role, flag);
      // Workers append to the logs after switching user.
      if (identity && role !== 'pidfile') chownSync(path, identity.uid, identity.gid);
    }
  }
  return identity;
}

async function main(argv: string[]): Promise<number> {
  const launchDirectory = process.cwd();
  let config: ResolvedConfig;
  try {
    config = await resolveSettings(argv, process.env, launchDirectory);
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
  let identity: Identity | undefined;
  try {
    identity = applyProcessSettings(config);
    // After --chdir: a custom kind's path resolves where the workers will resolve it.
    await loadKind(config.settings.workerClass);
    await checkMetricsSettings(config.settings);
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
  const statsd = statsdFromSettings(settings);
  const logger = createLogger({ level: settings.logLevel as never, format: settings.logFormat as 'text' | 'json', path: settings.errorlog, onLine: statsd && logLineCounter(statsd) });
  // HUP re-reads the same sources; a config file that has become invalid fails the reload, not the server.
  const reload = () => resolveSettings(argv, process.env, launchDirectory);
  return runArbiter({ ...config, appModule: config.appModule, cwd: process.cwd(), logger, reload, statsd, identity, launchDirectory }).finally(() => statsd?.close());
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => fail(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1),
);
