// docs/settings.md, generated from the settings schema and the hook table.
import { describeDefault, sectionTitles } from './help.js';
import { hookSpecs } from './hooks.js';
import { type Section, type SettingSpec, allSettings } from './schema.js';
import { allowedValues } from './convert.js';

const code = (text: string) => `\`${text.replace(/\|/g, '\\|')}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|');

function flags(spec: SettingSpec): string {
  if (!spec.flag) return '—';
  const names = [...(spec.short ? [`-${spec.short}`] : []), `--${spec.flag}`, ...(spec.aliases ?? []).map((alias) => `--${alias}`)];
  return names.map(code).join(', ');
}

export function renderSettingsDoc(): string {
  const lines = [
    '<!-- Generated from src/config/schema.ts by `npm run docs`; do not edit. -->',
    '# Settings',
    '',
    'Every setting can be given on the command line, in `CORRAL_CMD_ARGS` (extra arguments, split like a shell does),',
    'or as a key of the config file (`corral.config.js`, `.mjs`, `.cjs` or `.json` in the working directory, or `-c FILE`;',
    '`.ts`, `.mts` and `.cts` with a TypeScript loader, see the README\'s *TypeScript*).',
    'The file exports an object, or a function (possibly async) that returns one; in TypeScript, `defineConfig()` types it.',
    'Its `app` key names the APP_MODULE (as gunicorn\'s `wsgi_app`), resolved from the working directory; one on the command line wins.',
    '',
    'Precedence, lowest first: defaults (and their environment variables) < config file < `CORRAL_CMD_ARGS` < command line.',
    'An unknown key or a bad value stops corral with the file, the key and what is allowed (exit status 1 for the',
    'config file, 2 for the command line).',
    '',
  ];
  for (const section of Object.keys(sectionTitles) as Section[]) {
    lines.push(`## ${sectionTitles[section]}`, '', '| config key | flags | default | allowed | gunicorn | meaning |', '| --- | --- | --- | --- | --- | --- |');
    for (const spec of allSettings.filter((candidate) => candidate.section === section)) {
      const key = spec.cliOnly ? '—' : code(spec.name);
      lines.push(
        `| ${key} | ${flags(spec)} | ${code(describeDefault(spec))} | ${cell(allowedValues(spec))} | ${spec.gunicorn ? code(spec.gunicorn) : '—'} | ${cell(spec.help)} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '## Hooks',
    '',
    'Functions in the config file, run at the same moments and in the same processes as gunicorn\'s.',
    'Each may be async; one that throws is logged with its name and never takes the server down.',
    '`preRequest` and `postRequest` run on the request path: they are called, not awaited.',
    'corral waits for any other hook at most `hookTimeout` seconds (a worker\'s `sslContext`, `postFork` and',
    '`postWorkerInit` at most a quarter of `timeout`), then logs `Hook NAME did not finish within N s; continuing`',
    'and goes on with what the hook held up; the hook itself is not stopped. When a worker gives up on',
    '`workerExit`, or the arbiter on `onExit`, the process exits anyway.',
    '',
    '| config key | gunicorn | runs in | arguments | when |',
    '| --- | --- | --- | --- | --- |',
    ...hookSpecs.map((hook) => `| ${code(hook.name)} | ${code(hook.gunicorn)} | ${hook.process} | ${code(hook.args)} | ${hook.when} |`),
    '',
  );
  return lines.join('\n');
}
