// `npm run diagrams`: writes diagrams/ from the machines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderDiagrams } from '../src/inspector/documented-machines.js';

const directory = fileURLToPath(new URL('../../diagrams/', import.meta.url));
mkdirSync(directory, { recursive: true });
for (const [file, content] of Object.entries(renderDiagrams())) {
  writeFileSync(`${directory}${file}`, content);
  process.stdout.write(`wrote diagrams/${file}\n`);
}
