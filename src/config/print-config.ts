// --print-config: every resolved setting, one `name = value` line each, then the hooks set.
import type { Hooks } from './hooks.js';
import { type Settings, allSettings } from './schema.js';

export function printConfig(settings: Settings, hooks: Hooks): string {
  const shown = allSettings.filter((spec) => !spec.cliOnly);
  const width = Math.max(...shown.map((spec) => spec.name.length), ...Object.keys(hooks).map((name) => name.length));
  const lines = shown.map((spec) => `${spec.name.padEnd(width)} = ${JSON.stringify(settings[spec.name as keyof Settings])}`);
  for (const name of Object.keys(hooks)) lines.push(`${name.padEnd(width)} = [function]`);
  return `${lines.join('\n')}\n`;
}
