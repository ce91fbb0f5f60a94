// Who is the arbiter, across a USR2 upgrade: the pidfile (PIDFILE, or PIDFILE.2
// for a new arbiter until the old one is gone), the process title (master /
// master.2), the new arbiter this one started, and whether another arbiter still
// serves on the shared sockets (then a unix socket's file must stay).
import type { ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Logger } from '../log/logger.js';
import type { BoundListener } from '../sockets/listeners.js';
import { isAlive } from './process-alive.js';
import { type InheritedSockets, spawnUpgrade, takeInheritedSockets } from './upgrade.js';

/** How often a new arbiter checks whether the old one is gone. */
const PARENT_POLL_MS = 250;

export interface Succession {
  /** The sockets this arbiter inherited from the one it upgrades, if any. */
  inherited: InheritedSockets | undefined;
  otherArbiterServes(): boolean;
  /** USR2: start a new arbiter on these sockets (unless one is already running). */
  startUpgrade(listeners: readonly BoundListener[], beforeSpawn: () => Promise<void>): Promise<void>;
  /** At exit: stop watching, remove the pidfile if it still names this process. */
  end(): void;
}

export function startSuccession(options: { pidfile: string | null; name: string; launchDirectory: string; logger: Logger }): Succession {
  const { name, launchDirectory, logger } = options;
  const inherited = takeInheritedSockets(process.env);
  let pidfile = options.pidfile && inherited ? `${options.pidfile}.2` : options.pidfile;
  if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);
  process.title = `corral: ${inherited ? 'master.2' : 'master'} [${name}]`;
  let promoted = !inherited;
  let upgradeChild: ChildProcess | undefined;
  const upgradeRunning = () => upgradeChild !== undefined && upgradeChild.exitCode === null && upgradeChild.signalCode === null;

  const watchParent = inherited
    ? setInterval(() => {
        if (isAlive(inherited.parentPid)) return;
        promoted = true;
        clearInterval(watchParent);
        if (pidfile && options.pidfile) {
          renameSync(pidfile, options.pidfile);
          pidfile = options.pidfile;
        }
        process.title = `corral: master [${name}]`;
        logger.info(`The previous arbiter (pid: ${inherited.parentPid}) has exited; this one takes over${pidfile ? ` (${pidfile})` : ''}`);
      }, PARENT_POLL_MS).unref()
    : undefined;

  return {
    inherited,
    otherArbiterServes: () => upgradeRunning() || (inherited !== undefined && !promoted && isAlive(inherited.parentPid)),
    async startUpgrade(listeners, beforeSpawn) {
      if (upgradeRunning()) {
        logger.warning(`An upgrade is already running (pid: ${upgradeChild!.pid}); ignoring USR2.`);
        return;
      }
      await beforeSpawn();
      const child = spawnUpgrade(listeners, launchDirectory);
      upgradeChild = child;
      child.once('spawn', () => logger.info(`Upgrading: started a new arbiter (pid: ${child.pid}) on the same sockets`));
      child.once('error', (error) => logger.error(`Upgrade failed: cannot start a new arbiter: ${error.message}`));
      child.once('exit', (code, signal) => logger.info(`The upgraded arbiter (pid: ${child.pid}) exited (${signal ?? `code ${code}`})`));
    },
    end() {
      if (watchParent) clearInterval(watchParent);
      if (!pidfile) return;
      try {
        if (readFileSync(pidfile, 'utf8').trim() === String(process.pid)) unlinkSync(pidfile);
      } catch {
        // already removed
      }
    },
  };
}
