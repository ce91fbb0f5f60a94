// The real `workerProcess` actor: spawns a worker, passes it the listeners as
// inherited fds and its own IPC pipe (fd 3), and reports its life as events.
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { fromCallback } from 'xstate';
import type { WorkerHandleEvent, WorkerProcessCommand } from '../../machines/worker-handle.js';
import { openArbiterSide } from '../ipc/channel.js';
import { IPC_FD, PROTOCOL_VERSION, SENTINEL_WATCHES, type WorkerInit } from '../ipc/protocol.js';
import type { OrphanSentinel } from './orphan-sentinel.js';
import { endProcessGroup } from '../worker/process-group.js';
import type { Hooks } from '../config/hooks.js';
import { runHookSync } from '../config/run-hook.js';
import type { Logger } from '../log/logger.js';
import type { ConnectionStrategy } from './connection-strategy.js';
import type { BoundListener } from '../sockets/listeners.js';
import { inheritedNodeFlags } from './inherited-node-flags.js';

const WORKER_ENTRY = fileURLToPath(new URL('../worker/main.js', import.meta.url));
const FIRST_LISTENER_FD = IPC_FD + 1;
/** How long to wait for the pipe to flush after the process is gone. */
const PIPE_DRAIN_MS = 500;

export interface WorkerProcessOptions {
  listeners: () => readonly BoundListener[];
  /** Read at each spawn, so workers started after a reload get the new settings. */
  init: () => Omit<WorkerInit, 'type' | 'version' | 'workerId' | 'listeners'>;
  logger: Logger;
  hooks: () => Hooks;
  /** How connections reach the workers spawned now (chosen once the listeners are bound). */
  connections: () => ConnectionStrategy;
  /** Ends the workers' groups if the arbiter dies; without one, each worker watches for that itself. */
  sentinel: OrphanSentinel | undefined;
}

export function workerProcessLogic({ listeners, init, logger, hooks, connections, sentinel }: WorkerProcessOptions) {
  return fromCallback<WorkerProcessCommand, { id: string }>(({ input, sendBack, receive }) => {
    const strategy = connections();
    const send = (event: WorkerHandleEvent) => sendBack(event);
    const bound = listeners();
    runHookSync(hooks(), 'preFork', logger, { id: input.id });
    // Each worker leads a process group of its own, so that what its app started can be ended with it
    // (node's `detached` also makes it a session leader: terminal signals reach the arbiter alone, which relays them).
    // Its arguments: the arbiter's pid, and whether the sentinel ends it if the arbiter dies (else it watches for that itself).
    const child = spawn(process.execPath, [...inheritedNodeFlags(), WORKER_ENTRY, String(process.pid), ...(sentinel ? [SENTINEL_WATCHES] : [])], {
      detached: true,
      // Dispatch also needs node's fd-passing channel, which carries the sockets.
      stdio: [strategy.workerStdin, 'inherit', 'inherit', 'pipe', ...bound.map((listener) => listener.fd), ...strategy.workerStdio],
    });
    strategy.attach(input.id, child);
    let exited = false;
    let pipeClosed = false;
    let exitStatus: { code: number | null; signal: string | null } | undefined;
    // Report the exit once the pipe is drained, so a last bootFailed message is never lost.
    const reportExit = () => {
      if (exited || !exitStatus) return;
      exited = true;
      send({ type: 'PROCESS.EXITED', exitCode: exitStatus.code, signal: exitStatus.signal });
    };

    const channel = openArbiterSide(child.stdio[IPC_FD] as Duplex, {
      message(message) {
        switch (message.type) {
          case 'booted':
            return send({ type: 'MSG.booted' });
          case 'ready':
            return send({ type: 'MSG.ready' });
          case 'heartbeat':
            return send({
              type: 'MSG.heartbeat',
              stats: { inFlight: message.inFlight, served: message.served, lagMs: message.lagMs, rss: message.rss, timedOut: message.timedOut, durations: message.durations, cpuMicros: message.cpuMicros, responses: message.responses, dropped: message.dropped },
            });
          case 'bootFailed':
            return send({ type: 'MSG.bootFailed', code: message.code, message: message.message });
          case 'recycle':
            return send({ type: 'MSG.recycle', reason: message.reason });
        }
      },
      protocolError(error) {
        send({ type: 'PROCESS.PROTOCOL_ERROR', message: `${error.message} [${error.code}]` });
      },
      close() {
        pipeClosed = true;
        reportExit();
      },
    });

    child.once('spawn', () => {
      sentinel?.watch(child.pid!);
      logger.info(`Booting worker with pid: ${child.pid}`);
      send({ type: 'PROCESS.SPAWNED', pid: child.pid! });
    });
    child.once('error', (error) => {
      logger.error(`Cannot start a worker process: ${error.message}`);
      exitStatus = { code: null, signal: null };
      pipeClosed = true;
      reportExit();
    });
    child.once('exit', (code, signal) => {
      strategy.retire(input.id);
      if (child.pid) {
        // A worker's children do not outlive it: whatever is left in its process group is ended with it.
        endProcessGroup(child.pid);
        sentinel?.forget(child.pid);
      }
      exitStatus = { code, signal };
      if (pipeClosed) reportExit();
      else setTimeout(reportExit, PIPE_DRAIN_MS).unref();
    });

    channel.send({
      type: 'init',
      version: PROTOCOL_VERSION,
      workerId: input.id,
      listeners: bound.map((listener, index) => ({ fd: FIRST_LISTENER_FD + index, url: listener.url })),
      ...init(),
    });

    receive((command) => {
      // Any signal means the worker is leaving (or reopening logs, which is harmless to re-offer).
      if (command.type === 'SIGNAL' && command.signal !== 'SIGUSR1') strategy.retire(input.id);
      if (command.type === 'SIGNAL' && child.exitCode === null && child.signalCode === null) {
        try {
          child.kill(command.signal);
        } catch {
          // already gone; its exit event follows
        }
      }
    });

    return () => channel.close();
  });
}
