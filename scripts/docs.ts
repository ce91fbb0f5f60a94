// `npm run docs`: writes docs/settings.md from the settings schema.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSettingsDoc } from '../src/config/settings-doc.js';

const directory = fileURLToPath(new URL('../../docs/', import.meta.url));
mkdirSync(directory, { recursive: true });
writeFileSync(`${directory}settings.md`, renderSettingsDoc());
process.stdout.write('wrote docs/settings.md\n');
