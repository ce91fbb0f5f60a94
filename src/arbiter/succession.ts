// The effects of the succession chart (machines/succession.ts): the pidfile
// (PIDFILE, or PIDFILE.2 for a new arbiter until the old one is gone), the
// process title (master / master.2), starting the new arbiter on USR2, and
// learning when the arbiter that started this one has exited.
import { readFileSync, renameSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { fromCallback } from 'xstate';
import { type SuccessionEvent, successionMachine } from '../../machines/succession.js';
import type { Logger } from '../log/logger.js';
import type { BoundListener } from '../sockets/listeners.js';
import { writePidfile } from './pidfile.js';
import { isAlive } from './process-alive.js';
import { type InheritedSockets, spawnUpgrade, takeInheritedSockets } from './upgrade.js';

/** How often to look for an old arbiter that gave no watch pipe (one of an earlier version). */
const PREDECESSOR_POLL_MS = 250;

export interface Succession {
  /** The sockets this arbiter inherited from the one it upgrades, if any. */
  inherited: InheritedSockets | undefined;
  /** The succession chart with its effects, for the arbiter chart to run. */
  logic: typeof successionMachine;
  /** At exit: remove the pidfile if it still names this process. */
  end(): void;
}

export interface SuccessionOptions {
  pidfile: string | null;
  name: string;
  launchDirectory: string;
  logger: Logger;
  listeners: () => readonly BoundListener[];
  /** The preExec hook, run before the new arbiter is started. */
  beforeSpawn: () => Promise<void>;
}

export function startSuccession({ pidfile: configured, name, launchDirectory, logger, listeners, beforeSpawn }: SuccessionOptions): Succession {
  const inherited = takeInheritedSockets(process.env);
  let pidfile = configured && inherited ? `${configured}.2` : configured;
  if (pidfile) writePidfile(pidfile, process.pid);
  process.title = `corral: ${inherited ? 'master.2' : 'master'} [${name}]`;

  const logic = successionMachine.provide({
    actions: {
      log: (_, { level, message }) => logger.log(level, message),
      takeOver: () => {
        if (pidfile && configured && pidfile !== configured) {
          try {
            renameSync(pidfile, configured);
            pidfile = configured;
          } catch (error) {
            logger.error(`Cannot rename ${pidfile} to ${configured}: ${(error as Error).message}`);
          }
        }
        process.title = `corral: master [${name}]`;
      },
    },
    actors: {
      // The old arbiter holds the write end of a pipe it gave this one: its exit closes it.
      watchPredecessor: fromCallback<SuccessionEvent, { pid: number }>(({ input, sendBack }) => {
        const gone = () => sendBack({ type: 'PREDECESSOR.EXITED' });
        if (inherited?.watchFd === undefined) {
          const timer = setInterval(() => isAlive(input.pid) || (clearInterval(timer), gone()), PREDECESSOR_POLL_MS).unref();
          return () => clearInterval(timer);
        }
        const pipe = new net.Socket({ fd: inherited.watchFd, readable: true, writable: false });
        pipe.on('error', () => {});
        pipe.once('close', gone);
        pipe.resume();
        pipe.unref();
        return () => (pipe.off('close', gone), pipe.destroy());
      }),
      startSuccessor: fromCallback<SuccessionEvent>(({ sendBack }) => {
        void beforeSpawn().then(() => {
          const child = spawnUpgrade(listeners(), launchDirectory);
          child.once('spawn', () => sendBack({ type: 'SUCCESSOR.STARTED', pid: child.pid! }));
          child.once('error', (error) => sendBack({ type: 'SUCCESSOR.FAILED', message: error.message }));
          child.once('exit', (exitCode, signal) => sendBack({ type: 'SUCCESSOR.EXITED', exitCode, signal }));
        });
        // The new arbiter outlives this one: nothing to stop.
      }),
    },
  });

  return {
    inherited,
    logic,
    end() {
      if (!pidfile) return;
      try {
        if (readFileSync(pidfile, 'utf8').trim() === String(process.pid)) unlinkSync(pidfile);
      } catch {
        // already removed
      }
    },
  };
}
