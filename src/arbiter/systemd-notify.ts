// sd_notify for systemd's Type=notify units. Node 20 has no unix datagram
// sockets, so messages go through Debian's `systemd-notify` (present wherever
// systemd set NOTIFY_SOCKET), sent in order, one at a time, never blocking the arbiter.
import { spawn } from 'node:child_process';
import type { Logger } from '../log/logger.js';

export interface Notifier {
  notify(fields: Record<string, string | number>): void;
}

/** CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants it (libuv's hrtime is that clock). */
export const monotonicMicroseconds = () => process.hrtime.bigint() / 1000n;

export function createNotifier(env: NodeJS.ProcessEnv, logger: Logger, command = 'systemd-notify'): Notifier {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return { notify: () => {} };
  let queue = Promise.resolve();
  let warned = false;
  const send = (args: string[]) =>
    new Promise<void>((resolve) => {
      const child = spawn(command, ['--no-block', `--pid=${process.pid}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, NOTIFY_SOCKET: socket } });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', (error) => {
        if (!warned) logger.warning(`NOTIFY_SOCKET is set but ${command} cannot run (${error.message}); systemd will not hear of readiness.`);
        warned = true;
        resolve();
      });
      child.on('close', (code) => {
        if (code !== 0 && !warned) logger.warning(`${command} failed (${stderr.trim() || `exit ${code}`}); systemd may not hear of readiness.`);
        if (code !== 0) warned = true;
        resolve();
      });
    });
  return {
    notify(fields) {
      const args = Object.entries(fields).map(([key, value]) => `${key}=${value}`);
      queue = queue.then(() => send(args));
    },
  };
}
