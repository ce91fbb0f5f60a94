// The example systemd units ship in the package, and start corral the way socket activation needs.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

test('examples/systemd is in the package files', () => {
  const { files } = JSON.parse(read('package.json')) as { files: string[] };
  for (const unit of ['examples/systemd/corral.service', 'examples/systemd/corral.socket']) {
    read(unit);
    assert.ok(files.some((entry) => unit === entry || unit.startsWith(`${entry}/`)), `${unit} is not in package.json files`);
  }
});

test('the example service starts the corral bin itself, not through npx (LISTEN_PID must name corral)', () => {
  const execStart = /^ExecStart=(.*)$/m.exec(read('examples/systemd/corral.service'))?.[1] ?? '';
  assert.match(execStart, /\/node_modules\/\.bin\/corral /);
  assert.not.match(execStart, /\bnpx\b|\bnpm\b/);
});

test.run();
