// Workers must not outlive their arbiter, even one killed outright while a
// worker's event loop is blocked (it would keep the listening socket, and new
// connections would hang). One small process per arbiter watches for that: it
// reads worker pids from a pipe only the arbiter holds open ("+PID" when one
// starts, "-PID" when it is gone). When the arbiter dies, however it dies, the
// pipe closes; the sentinel gives the workers a second to leave by themselves
// (a worker whose loop turns sees its own pipe close), then ends the process
// group of every worker still listed — the worker and whatever its app started
// in it. A POSIX shell does this for about a megabyte, once per arbiter.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';

const SHELL = '/bin/sh';

// Signals are ignored: Ctrl-C in the arbiter's terminal must not end the sentinel before it is needed.
const SCRIPT = `trap '' INT TERM HUP QUIT TTIN TTOU WINCH USR1 USR2
live=' '
while read -r change; do
  pid=\${change#?}
  case $change in
    +*) live="$live$pid " ;;
    -*) case $live in *" $pid "*) live="\${live%% $pid *} \${live#* $pid }" ;; esac ;;
  esac
done
[ "$live" = ' ' ] && exit 0
sleep 1
for pid in $live; do kill -s KILL -- "-$pid" 2>/dev/null; done
exit 0
`;

export interface OrphanSentinel {
  /** A worker started (it leads its own process group). */
  watch(pid: number): void;
  /** A worker is gone. */
  forget(pid: number): void;
  /** The arbiter is ending with every worker gone: the sentinel leaves too (resolves once it has, or after a second). */
  close(): Promise<void>;
}

/**
 * Starts the sentinel, or returns undefined where there is no shell (workers then watch for themselves).
 * The shell starts on the event loop's next turn, once the first workers are spawned: its fork and exec
 * are not on their way to serving. What is said to it meanwhile waits for it, in order.
 */
export function startOrphanSentinel(logger: Pick<Logger, 'warning'>): OrphanSentinel | undefined {
  if (!existsSync(SHELL)) return undefined;
  let input: Socket | undefined;
  let gone = Promise.resolve();
  let closed = false;
  const waiting: string[] = [];
  const start = () => {
    let child: ChildProcess;
    try {
      // Its own session: terminal signals to the arbiter's group do not reach it.
      // The script travels in the environment, so that `ps` shows a line, not the script.
      child = spawn(SHELL, ['-c', 'eval "$CORRAL_SENTINEL"', 'corral: sentinel'], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CORRAL_SENTINEL: SCRIPT },
      });
    } catch (error) {
      logger.warning(`No orphan sentinel (${(error as Error).message}); a blocked worker may outlive a killed arbiter`);
      // Nobody will read what would be told to it: keep nothing.
      closed = true;
      waiting.length = 0;
      return;
    }
    input = child.stdin as Socket;
    child.on('error', (error) => logger.warning(`The orphan sentinel failed (${error.message}); a blocked worker may outlive a killed arbiter`));
    input.on('error', () => {});
    // Neither may keep the arbiter's event loop alive.
    child.unref();
    input.unref();
    gone = new Promise<void>((resolve) => child.once('exit', () => resolve()).once('error', () => resolve()));
    for (const line of waiting.splice(0)) input.write(`${line}\n`);
  };
  const starting = setImmediate(start);
  const tell = (line: string) => {
    if (closed) return;
    if (!input) waiting.push(line);
    else if (!input.destroyed) input.write(`${line}\n`);
  };
  return {
    watch: (pid) => tell(`+${pid}`),
    forget: (pid) => tell(`-${pid}`),
    close() {
      closed = true;
      clearImmediate(starting);
      if (!input) return Promise.resolve();
      input.end();
      // Embedding code checks that nothing of corral's is left once it stopped: the sentinel included.
      // The wait is bounded and keeps the loop alive (the child is unref'd: waiting on it alone would let node end with 0).
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]).finally(() => clearTimeout(timer));
    },
  };
}
