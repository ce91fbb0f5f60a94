// USR2, upgrade on the fly: the arbiter starts a new arbiter (new code, perhaps a
// new Node) that inherits the listening sockets as fds, named in an environment
// variable together with the old arbiter's pid. The old one keeps serving until the
// operator sends it WINCH (stop its workers) and TERM; TERM to the new one rolls back.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { BoundListener } from '../sockets/listeners.js';

/** JSON list of { fd, url } the new arbiter inherits. */
export const INHERITED_LISTENERS_ENV = 'CORRAL_INHERITED_LISTENERS';
/** The pid of the arbiter being upgraded. */
export const UPGRADE_FROM_ENV = 'CORRAL_UPGRADE_FROM';
/** The fd of a pipe the old arbiter holds open: it closes when the old arbiter exits. */
export const UPGRADE_WATCH_FD_ENV = 'CORRAL_UPGRADE_WATCH_FD';

const FIRST_INHERITED_FD = 3;

export interface InheritedSockets {
  parentPid: number;
  listeners: { fd: number; url: string }[];
  /** Absent when the old arbiter is of a version that gave none. */
  watchFd?: number;
}

/** What this arbiter inherited, if it was started by USR2; clears the variables so the app never sees them. */
export function takeInheritedSockets(env: NodeJS.ProcessEnv): InheritedSockets | undefined {
  const listeners = env[INHERITED_LISTENERS_ENV];
  const parentPid = Number(env[UPGRADE_FROM_ENV]);
  const watchFd = Number(env[UPGRADE_WATCH_FD_ENV]);
  delete env[INHERITED_LISTENERS_ENV];
  delete env[UPGRADE_FROM_ENV];
  delete env[UPGRADE_WATCH_FD_ENV];
  if (!listeners || !Number.isInteger(parentPid)) return undefined;
  return {
    parentPid,
    listeners: JSON.parse(listeners) as { fd: number; url: string }[],
    ...(Number.isInteger(watchFd) ? { watchFd } : {}),
  };
}

/** Starts the new arbiter with the same command line, from the directory corral was started in. */
export function spawnUpgrade(listeners: readonly BoundListener[], cwd: string): ChildProcess {
  const watchFd = FIRST_INHERITED_FD + listeners.length;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    cwd,
    stdio: ['inherit', 'inherit', 'inherit', ...listeners.map((listener) => listener.fd), 'pipe'],
    env: {
      ...process.env,
      [INHERITED_LISTENERS_ENV]: JSON.stringify(listeners.map((listener, index) => ({ fd: FIRST_INHERITED_FD + index, url: listener.url }))),
      [UPGRADE_FROM_ENV]: String(process.pid),
      [UPGRADE_WATCH_FD_ENV]: String(watchFd),
    },
  });
  // Held open, unread, for as long as this process lives; it must not keep this process running.
  (child.stdio[watchFd] as Socket | null)?.unref();
  return child;
}

