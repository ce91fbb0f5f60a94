// The real `dirtyProcess` actor: spawns a dirty process with its own pipe (fd 3),
// reports its life to its chart as events, and hands its call replies to the router.
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { fromCallback } from 'xstate';
import type { DirtyProcessCommand, DirtyProcessEvent } from '../../machines/dirty-process.js';
import { ProtocolError } from '../errors.js';
import { openChannel } from '../ipc/channel.js';
import { IPC_FD } from '../ipc/protocol.js';
import type { Identity } from '../config/identity.js';
import type { Logger } from '../log/logger.js';
import { endProcessGroup } from '../worker/process-group.js';
import { type CallReply, type DirtyToRouter, FRAME_OVERHEAD_BYTES, type RouterToDirty, asDirtyMessage } from './dirty-protocol.js';
import { inheritedNodeFlags } from '../arbiter/inherited-node-flags.js';

const DIRTY_ENTRY = fileURLToPath(new URL('./dirty-main.js', import.meta.url));
/** How long to wait for the pipe to flush after the process is gone, so a last reply is not lost. */
const PIPE_DRAIN_MS = 500;

export interface DirtyProcessPipes {
  /** The router's way to a process: set while it lives. */
  attach(id: string, send: (message: RouterToDirty) => void): void;
  detach(id: string): void;
  /** A reply from a process to the call the router handed it. */
  reply(id: string, reply: CallReply): void;
}

export interface DirtyProcessOptions {
  /** Read at each spawn: processes started after a reload load the module as it is then. */
  init: () => { module: string; cwd: string; maxMessageBytes: number; identity?: Identity; initgroups?: boolean };
  logger: Logger;
  pipes: DirtyProcessPipes;
}

export function dirtyProcessLogic({ init, logger, pipes }: DirtyProcessOptions) {
  return fromCallback<DirtyProcessCommand, { id: string }>(({ input, sendBack, receive }) => {
    const send = (event: DirtyProcessEvent) => sendBack(event);
    const { module, cwd, maxMessageBytes, identity, initgroups } = init();
    // A group of its own (as workers have): what the module started ends with it, and a terminal's ^C reaches the arbiter alone.
    const child = spawn(process.execPath, [...inheritedNodeFlags(), DIRTY_ENTRY, String(maxMessageBytes)], { detached: true, cwd, stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
    let exited = false;
    let pipeClosed = false;
    let exitStatus: { code: number | null; signal: string | null } | undefined;
    const reportExit = () => {
      if (exited || !exitStatus) return;
      exited = true;
      pipes.detach(input.id);
      send({ type: 'PROCESS.EXITED', exitCode: exitStatus.code, signal: exitStatus.signal });
    };
    const channel = openChannel<DirtyToRouter, RouterToDirty>(
      child.stdio[IPC_FD] as Duplex,
      validDirtyMessage,
      {
        message(message) {
          if (message.t === 'ready') send({ type: 'MSG.ready' });
          // Why it could not boot: logged by the chart with its exit.
          else if (message.t === 'bootFailed') send({ type: 'MSG.bootFailed', message: message.message });
          else pipes.reply(input.id, message);
        },
        protocolError(error) {
          send({ type: 'PROCESS.PROTOCOL_ERROR', message: `${error.message} [${error.code}]` });
        },
        close() {
          pipeClosed = true;
          reportExit();
        },
      },
      maxMessageBytes + FRAME_OVERHEAD_BYTES,
    );
    const write = (message: RouterToDirty) => channel.send(message);
    child.once('spawn', () => {
      logger.info(`Booting dirty process with pid: ${child.pid}`);
      send({ type: 'PROCESS.SPAWNED', pid: child.pid! });
      pipes.attach(input.id, write);
    });
    child.once('error', (error) => {
      logger.error(`Cannot start a dirty process: ${error.message}`);
      exitStatus = { code: null, signal: null };
      pipeClosed = true;
      reportExit();
    });
    child.once('exit', (code, signal) => {
      if (child.pid) endProcessGroup(child.pid);
      exitStatus = { code, signal };
      if (pipeClosed) reportExit();
      else setTimeout(reportExit, PIPE_DRAIN_MS).unref();
    });
    write({ t: 'init', module, cwd, id: input.id, identity, initgroups });
    receive((command) => {
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

function validDirtyMessage(raw: unknown): DirtyToRouter {
  const message = asDirtyMessage(raw);
  if (!message) throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', `unexpected message ${JSON.stringify(raw)?.slice(0, 80)}`);
  return message;
}
