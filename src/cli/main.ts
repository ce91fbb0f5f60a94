#!/usr/bin/env node
// `corral [OPTIONS] APP_MODULE`: parse, validate, then run the arbiter.
import { runArbiter } from '../arbiter/run-arbiter.js';
import { helpText } from '../config/help.js';
import { parseCommandLine } from '../config/parse-command-line.js';
import { CorralError, UsageError, describeError } from '../errors.js';
import { parseAppModule } from '../app/app-module.js';
import { assertKnownKind, kindNames } from '../kinds/registry.js';
import { type LogLevel, createLogger } from '../log/logger.js';
import { parseBindAddress } from '../sockets/bind-address.js';
import { version } from '../version.js';

/** Exit status for a command line the user must fix, as other CLIs use. */
const EXIT_USAGE = 2;

function fail(message: string, status: number): never {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(status);
}

async function main(argv: string[]): Promise<number> {
  let commandLine;
  try {
    commandLine = parseCommandLine(argv);
    if (commandLine.help) {
      process.stdout.write(helpText(kindNames()));
      return 0;
    }
    if (commandLine.version) {
      process.stdout.write(`corral ${version}\n`);
      return 0;
    }
    if (!commandLine.appModule) throw new UsageError("No application module specified. Usage: corral [OPTIONS] APP_MODULE (see 'corral --help').");
    parseAppModule(commandLine.appModule);
    commandLine.settings.bind.forEach(parseBindAddress);
  } catch (error) {
    if (error instanceof CorralError) fail(error.message, EXIT_USAGE);
    throw error;
  }
  try {
    assertKnownKind(commandLine.settings.workerClass);
  } catch (error) {
    fail(describeError(error), 1);
  }
  process.title = 'corral: master';
  const logger = createLogger(commandLine.settings.logLevel as LogLevel);
  return runArbiter({ settings: commandLine.settings, appModule: commandLine.appModule, cwd: process.cwd(), logger });
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => fail(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1),
);
