// corral as a container's PID 1. The kernel re-parents to PID 1 every process
// whose parent died (a grandchild an app started and abandoned), and only PID 1
// can reap it. Node reaps only the children it started: libuv calls waitpid()
// for each pid it spawned, and node has no call that waits for any other (no
// waitpid(-1), no SIGCHLD disposition to set, no prctl) short of a native
// addon; a waitpid(-1) would besides take the exits libuv waits for, and the
// workers' exits would go unseen. So node as PID 1 leaves such processes
// zombies. src/init/corral-init (a POSIX shell: its wait takes any child) can
// be PID 1 instead, running corral as its child and passing corral's signals
// on. Where node can replace its own process image (process.execve, node
// 22.15+ and 23.11+), corral started as PID 1 puts corral-init there itself:
// same pid, same stdio, same inherited sockets (only 0-2 are touched);
// elsewhere the arbiter says what to do.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const INIT_SCRIPT = fileURLToPath(new URL('../../../src/init/corral-init', import.meta.url));
const SHELL = '/bin/sh';

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

const execveOf = () => (process as unknown as { execve?: Execve }).execve;

/** Started as PID 1 where node can: becomes corral-init, which runs this same command line as its child. */
export function becomeInitIfPid1(): void {
  const execve = execveOf();
  // Checked first: a failed execve(2) aborts the process on some node versions instead of throwing.
  if (process.pid !== 1 || typeof execve !== 'function' || !existsSync(SHELL) || !existsSync(INIT_SCRIPT)) return;
  try {
    execve(SHELL, [SHELL, INIT_SCRIPT, process.execPath, ...process.execArgv, ...process.argv.slice(1)], process.env);
  } catch {
    // Where it throws instead: corral serves on as PID 1, and the arbiter's PID1_WARNING says what to do.
  }
}

/** What the arbiter says when it finds itself PID 1 (it could not hand that role to corral-init). */
export const PID1_WARNING =
  `Running as PID 1: processes re-parented to corral (children an app abandoned) cannot be reaped by node ${process.version} and stay zombies. ` +
  `Start corral as \`corral-init corral ...\` (${INIT_SCRIPT}), use \`docker run --init\`, or node 22.15+ or 23.11+, where corral does this itself.`;
