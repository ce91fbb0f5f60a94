// `corral [OPTIONS] APP_MODULE`: resolve the settings from argv, then launch
// the arbiter as serve() does, with this process's signals driving it.
import { applyProcessSettings } from '../config/apply-process-settings.js';
import { loadApp } from '../app/load-app.js';
import { parseAppModule } from '../app/app-module.js';
import { helpText } from '../config/help.js';
import { printConfig } from '../config/print-config.js';
import { type ResolvedConfig, resolveSettings } from '../config/resolve-settings.js';
import { ConfigError, CorralError, UsageError, describeError } from '../errors.js';
import { kindNames, loadKind } from '../kinds/registry.js';
import { tlsServerOptions } from '../http/tls-options.js';
import { checkMetricsSettings } from '../metrics/check-metrics-settings.js';
import { type CorralServer, launch } from '../serve.js';
import { version } from '../version.js';
import { becomeInitIfPid1 } from '../init/pid1.js';

/** Exit status for a command line the user must fix, as other CLIs use. */
const EXIT_USAGE = 2;

function fail(message: string, status: number): never {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(status);
}

/** Config-file problems exit 1 (as gunicorn's); command-line ones 2. */
const statusFor = (error: unknown) => (error instanceof ConfigError ? 1 : EXIT_USAGE);

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'ctl') return (await import('../ctl/ctl-main.js')).ctlMain(argv.slice(1));
  becomeInitIfPid1();
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
    if (!config.appModule) throw new UsageError("No application module specified. Usage: corral [OPTIONS] APP_MODULE, or `app` in the config file (see 'corral --help').");
    parseAppModule(config.appModule);
  } catch (error) {
    if (error instanceof CorralError) fail(error.message, statusFor(error));
    throw error;
  }
  if (config.settings.checkConfig) {
    try {
      applyProcessSettings(config.settings, config.sources);
      await loadKind(config.settings.workerClass);
      await checkMetricsSettings(config.settings);
      tlsServerOptions(config.settings);
      await loadApp(config.appModule, process.cwd());
    } catch (error) {
      fail(describeError(error), 1);
    }
    process.stdout.write(`Config and app ${config.appModule} are fine.\n`);
    return 0;
  }
  let server: CorralServer;
  try {
    server = await launch({
      ...config,
      appModule: config.appModule,
      launchDirectory,
      handleSignals: true,
      // HUP re-reads the same sources; a config file that has become invalid fails the reload, not the server.
      reload: () => resolveSettings(argv, process.env, launchDirectory),
    });
  } catch (error) {
    fail(describeError(error), 1);
  }
  return server.exited;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => fail(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1),
);
