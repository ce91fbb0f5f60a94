// node 20 gives no file or line for a syntax error in an ES module (it keeps
// them where only its own fatal-error printer reads them). This finds the
// module: a separate node walks the app's static imports, parsing each one
// without running it, and `node --check` shows where the first broken one
// breaks. Run only after an import failed, so it costs nothing otherwise.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WALKER = fileURLToPath(new URL('./syntax-error-walker.js', import.meta.url));
/** The walk reads files and parses them; on a slow disk or a huge graph it gives up rather than hold the boot. */
const WALK_DEADLINE_MS = 10_000;

/** `file:line`, the source line and the caret, for the first module from `file` that does not parse; or undefined. */
export function locateSyntaxError(file: string): string[] | undefined {
  const walk = spawnSync(process.execPath, ['--no-warnings', '--experimental-vm-modules', '--experimental-import-meta-resolve', WALKER, file], {
    encoding: 'utf8',
    timeout: WALK_DEADLINE_MS,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  if (walk.status !== 0 || !walk.stdout) return undefined;
  const lines = walk.stdout.replace(/\n+$/, '').split('\n');
  return /:\d+$/.test(lines[0]) ? lines : undefined;
}
