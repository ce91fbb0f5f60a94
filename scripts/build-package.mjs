// The build that goes into the tarball (npm pack and npm publish run it as
// `prepack`): dist/ from scratch, so no output of a deleted source is shipped;
// only what the package carries (tsconfig.package.json: machines/ and src/, then
// their bundle, scripts/bundle.mjs);
// and without source maps, whose TypeScript sources the package does not carry.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bundle } from './bundle.mjs';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.package.json'], { stdio: 'inherit' });
await bundle();
chmodSync('dist/src/cli/main.js', 0o755);
