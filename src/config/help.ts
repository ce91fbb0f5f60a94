// --help text, generated from the settings schema.
import { type Section, type SettingSpec, allSettings } from './schema.js';

export const sectionTitles: Record<Section, string> = {
  config: 'Configuration',
  server: 'Server sockets',
  worker: 'Workers',
  http: 'HTTP',
  proxy: 'Behind a proxy',
  tls: 'TLS',
  process: 'Process',
  logging: 'Logging',
  metrics: 'Metrics',
};

export function describeDefault(spec: SettingSpec): string {
  const value = spec.type === 'list' ? (spec.default.length ? spec.default.join(', ') : 'none') : spec.default === null ? 'none' : String(spec.default);
  return spec.env ? `$${spec.env} or ${value}` : value;
}

export function helpText(kindNames: readonly string[]): string {
  const lines = [
    'Usage: corral [OPTIONS] APP_MODULE',
    '',
    'Run a Node.js web app with a supervised pool of worker processes.',
    '',
    'APP_MODULE is module[:export]: a path relative to the working directory or a',
    "package name; the export defaults to 'default'. module:factory() calls a factory.",
    "It may be given as `app` in the config file instead; the command line's wins.",
    '',
    "A running server is driven with `corral ctl COMMAND` (status, reload, scale, stop …; see 'corral ctl --help').",
  ];
  for (const section of Object.keys(sectionTitles) as SettingSpec['section'][]) {
    lines.push('', `${sectionTitles[section]}:`);
    for (const spec of allSettings) {
      if (spec.section !== section || !spec.flag) continue;
      const flags = `${spec.short ? `-${spec.short}, ` : '    '}--${spec.flag}${spec.type === 'boolean' ? '' : ` ${spec.metavar ?? 'VALUE'}`}`;
      let help = spec.help;
      if (spec.name === 'workerClass') help += ` Kinds: ${kindNames.join(', ')}.`;
      if (spec.type === 'string' && spec.choices) help += ` One of: ${spec.choices.join(', ')}.`;
      lines.push(`  ${flags.padEnd(34)} ${help} (default: ${describeDefault(spec)})`);
    }
  }
  lines.push('', 'Other:', `  ${'-h, --help'.padEnd(34)} Show this help and exit.`, `  ${'-v, --version'.padEnd(34)} Show the version and exit.`, '');
  lines.push('Signals to the arbiter: TERM graceful stop, INT/QUIT quick stop, USR1 reopen log files.', '');
  return lines.join('\n');
}
