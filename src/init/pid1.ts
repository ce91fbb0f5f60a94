// corral as a container's PID 1. The kernel re-parents to PID 1 every process
// whose parent died (a grandchild an app started and abandoned), and only PID 1
// can reap it; node waits only for the children it started itself, so node as
// PID 1 would leave such processes zombies. src/init/corral-init (a POSIX shell: its
// wait takes any child) can be PID 1 instead, running corral as its child and
// passing corral's signals on. Where node can replace its own process image
// (process.execve, node ≥ 22.15), corral started as PID 1 puts corral-init
// there itself; elsewhere the arbiter says what to do.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const INIT_SCRIPT = fileURLToPath(new URL('../../../src/init/corral-init', import.meta.url));
const SHELL = '/bin/sh';

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

const execveOf = () => (process as unknown as { execve?: Execve }).execve;

/** Started as PID 1 where node can: becomes corral-init, which runs this same command line as its child. */
export function becomeInitIfPid1(): void {
  const execve = execveOf();
  if (process.pid !== 1 || typeof execve !== 'function' || !existsSync(SHELL) || !existsSync(INIT_SCRIPT)) return;
  execve(SHELL, [SHELL, INIT_SCRIPT, process.execPath, ...process.execArgv, ...process.argv.slice(1)], process.env);
}

/** What the arbiter says when it finds itself PID 1 (it could not hand that role to corral-init). */
export const PID1_WARNING =
  `Running as PID 1: processes re-parented to corral (children an app abandoned) cannot be reaped by node ${process.version} and stay zombies. ` +
  `Start corral as \`corral-init corral ...\` (${INIT_SCRIPT}), use \`docker run --init\`, or node ≥ 22.15, where corral does this itself.`;
