// --help text, generated from the settings schema.
import { type SettingSpec, settingsSchema } from './schema.js';

const sectionTitles: Record<SettingSpec['section'], string> = {
  server: 'Server',
  worker: 'Workers',
  logging: 'Logging',
};

function describeDefault(spec: SettingSpec): string {
  const value = spec.type === 'list' ? spec.default.join(', ') : String(spec.default);
  return spec.env ? `default: $${spec.env} or ${value}` : `default: ${value}`;
}

export function helpText(kindNames: readonly string[]): string {
  const lines = [
    'Usage: corral [OPTIONS] APP_MODULE',
    '',
    'Run a Node.js web app with a supervised pool of worker processes.',
    '',
    'APP_MODULE is module[:export]: a path relative to the working directory or a',
    "package name; the export defaults to 'default'. module:factory() calls a factory.",
  ];
  for (const section of Object.keys(sectionTitles) as SettingSpec['section'][]) {
    lines.push('', `${sectionTitles[section]}:`);
    for (const spec of settingsSchema as readonly SettingSpec[]) {
      if (spec.section !== section) continue;
      const flags = `${spec.short ? `-${spec.short}, ` : '    '}--${spec.flag} ${spec.metavar ?? 'VALUE'}`;
      let help = spec.help;
      if (spec.name === 'workerClass') help += ` Kinds: ${kindNames.join(', ')}.`;
      if (spec.type === 'string' && spec.choices) help += ` One of: ${spec.choices.join(', ')}.`;
      lines.push(`  ${flags.padEnd(34)} ${help} (${describeDefault(spec)})`);
    }
  }
  lines.push('', 'Other:', `  ${'-h, --help'.padEnd(34)} Show this help and exit.`, `  ${'-v, --version'.padEnd(34)} Show the version and exit.`, '');
  lines.push('Signals to the arbiter: TERM graceful stop, INT/QUIT quick stop.', '');
  return lines.join('\n');
}
