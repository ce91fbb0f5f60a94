// Starts the real corral CLI for a test, follows its log lines, and always
// reaps the arbiter and every worker it reported, by pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

const started = new Set<number>();
// Safety net: whatever a failed test left, by pid, is killed when the test process ends.
process.on('exit', () => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Sockets to pass as fds 3, 4 … */
  fds?: number[];
  /** Runs corral through another program: given the command line, returns [file, args]. */
  launcher?: (command: string[]) => [string, string[]];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class CorralProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  /** When every process writing to its output is gone (an upgraded arbiter shares it). */
  readonly exited: Promise<Exit>;
  /** When this process itself exited. */
  readonly processExited: Promise<Exit>;
  private waiters = new Set<() => void>();
  private exit: Exit | undefined;

  constructor(args: string[], options: StartOptions = {}) {
    const [file, argv] = options.launcher ? options.launcher([process.execPath, CLI, ...args]) : [process.execPath, [CLI, ...args]];
    this.child = spawn(file, argv, {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      // Extra fds land at 3, 4 … in corral, as systemd or a parent arbiter would pass them.
      stdio: ['ignore', 'pipe', 'pipe', ...(options.fds ?? [])],
    });
    started.add(this.child.pid!);
    // One partial line per stream: a line on stdout (the access log) and one on stderr are never joined.
    const partial = { stdout: '', stderr: '' };
    const onData = (stream: keyof typeof partial) => (chunk: string) => {
      const complete = (partial[stream] + chunk).split('\n');
      partial[stream] = complete.pop()!;
      for (const line of complete) {
        this.lines.push(line);
        const pid = /Booting (?:worker|dirty process) with pid: (\d+)/.exec(line)?.[1] ?? /\[(\d+)\] \[INFO\] Starting corral/.exec(line)?.[1];
        if (pid) started.add(Number(pid));
      }
      this.waiters.forEach((wake) => wake());
    };
    // Decoded as a stream: a character split across two chunks stays whole.
    this.child.stdout!.setEncoding('utf8').on('data', onData('stdout'));
    this.child.stderr!.setEncoding('utf8').on('data', onData('stderr'));
    this.processExited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        for (const rest of [partial.stdout, partial.stderr]) if (rest) this.lines.push(rest);
        this.exit = { code, signal };
        started.delete(this.child.pid!);
        this.waiters.forEach((wake) => wake());
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.lines.join('\n');
  }

  /** Resolves with the first line at or after `from` matching `pattern`; rejects at the deadline. */
  waitForLine(pattern: RegExp, { timeoutMs = 10_000, from = 0 } = {}): Promise<{ match: RegExpExecArray; index: number }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let index = from; index < this.lines.length; index += 1) {
          const match = pattern.exec(this.lines[index]);
          if (match) return finish(() => resolve({ match, index }));
        }
        if (this.exit) finish(() => reject(new Error(`corral exited (${JSON.stringify(this.exit)}) before logging ${pattern}:\n${this.output}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${this.output}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for every worker to be ready and returns the listening URLs. */
  async ready(timeoutMs = 10_000): Promise<string[]> {
    await this.waitForLine(/\[INFO\] Ready: \d+ worker/, { timeoutMs });
    return this.lines.flatMap((line) => /Listening at: (\S+)/.exec(line)?.[1] ?? []);
  }

  /** Pids of every arbiter that logged here: this one, then any it upgraded to (USR2). */
  arbiterPids(): number[] {
    return this.lines.flatMap((line) => {
      const pid = /\[(\d+)\] \[INFO\] Starting corral/.exec(line)?.[1];
      return pid ? [Number(pid)] : [];
    });
  }

  /** Pids of the workers this arbiter booted, in order. */
  workerPids(): number[] {
    return this.lines.flatMap((line) => {
      const pid = /Booting worker with pid: (\d+)/.exec(line)?.[1];
      return pid ? [Number(pid)] : [];
    });
  }

  /** Pids of the dirty processes (--dirty-app) this arbiter booted, in order. */
  dirtyPids(): number[] {
    return this.lines.flatMap((line) => {
      const pid = /Booting dirty process with pid: (\d+)/.exec(line)?.[1];
      return pid ? [Number(pid)] : [];
    });
  }

  liveWorkerPids(): number[] {
    return this.workerPids().filter(isAlive);
  }

  async waitForExit(timeoutMs = 10_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`corral did not exit within ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  signal(signal: NodeJS.Signals) {
    if (!this.exit) this.child.kill(signal);
  }

  /** Graceful stop, then by force: ends the arbiter, any arbiter it upgraded to, and every worker. */
  async stop(): Promise<void> {
    const arbiters = () => [this.pid, ...this.arbiterPids().filter((pid) => pid !== this.pid)].filter(isAlive);
    const signalAll = (signal: NodeJS.Signals) => {
      for (const pid of arbiters()) {
        try {
          process.kill(pid, signal);
        } catch {
          // gone meanwhile
        }
      }
    };
    if (!this.exit) {
      signalAll('SIGTERM');
      try {
        await this.waitForExit(15_000);
      } catch {
        signalAll('SIGKILL');
        // A worker left behind still holds the output pipes: `exited` waits for it.
        for (const pid of [...this.workerPids(), ...this.dirtyPids()].filter(isAlive)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        await this.exited;
      }
    }
    for (const pid of [...this.arbiterPids(), ...this.workerPids(), ...this.dirtyPids()]) {
      if (isAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      started.delete(pid);
    }
  }
}

export const startCorral = (args: string[], options?: StartOptions) => new CorralProcess(args, options);

/** Runs `body` with a started corral and always stops it afterwards. */
/** Kills, by pid, workers a test learnt of itself (the helper reaps only the ones it saw on corral's pipes). */
export function killLeftovers(corral: CorralProcess, workers: number[]) {
  for (const pid of workers) {
    if (isAlive(pid) && pid !== corral.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

export async function withCorral<T>(
  args: string[],
  body: (corral: CorralProcess) => Promise<T>,
  options?: StartOptions,
): Promise<T> {
  const corral = startCorral(args, options);
  try {
    return await body(corral);
  } finally {
    await corral.stop();
  }
}

/** Polls `condition` until it holds or the deadline passes. For states with no log line of their own. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, { timeoutMs = 5000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
