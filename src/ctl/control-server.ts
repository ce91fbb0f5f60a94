// The arbiter's control socket: `corral ctl` connects, sends one request and
// reads the reply (or, for `events`, a stream of changes). A client that sends
// garbage or an oversized frame gets an error reply and is disconnected; the
// arbiter carries on.
import { type Stats, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import type { DirtyStatus } from '../dirty/start-dirty-pool.js';
import { MIN_DIRTY_WORKERS, acceptsDirtyWorkerCount } from '../../machines/dirty-pool-size.js';
import net from 'node:net';
import { dirname } from 'node:path';
import type { ArbiterEvent } from '../../machines/arbiter.js';
import { CorralError, describeError } from '../errors.js';
import { FrameDecoder, encodeFrame } from '../ipc/frame-codec.js';
import type { Logger } from '../log/logger.js';
import type { CorralServer, ServerStatus } from '../serve.js';
import {
  CONTROL_PROTOCOL_VERSION,
  type ControlEvent,
  type ControlReply,
  type ControlRequest,
  MAX_CONTROL_FRAME_BYTES,
  type StatusReply,
  parseControlRequest,
  shownState,
} from './control-protocol.js';
import { controlDirectory } from './control-path.js';
import { listenWithMode } from './listen-with-mode.js';
import { checkPrivateDirectory, checkSocketDirectory, describeOwner } from './path-safety.js';

/** How often an `events` client's view is compared with the server's, for changes no chart event announces. */
const EVENTS_POLL_MS = 250;

const cpuSecondsOf = ({ user, system }: NodeJS.CpuUsage) => (user + system) / 1e6;

export interface ControlTarget {
  server: CorralServer;
  /** For the operations that are signals only: USR1 (reopen logs), USR2 (upgrade). */
  send(event: ArbiterEvent): void;
  name: string;
  kind: string;
  /** The dirty pool (--dirty-app), if any: `status` shows it, `dirty-scale` sizes it. */
  dirty?: { status(): DirtyStatus; scale(workers: number): void };
  /** The inspector's whole URL, token included: given only here, to the owner of the control socket, never to the log. */
  inspectorUrl?: string;
}

export interface ControlServer {
  path: string;
  close(): void;
}

function parseMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) throw new Error(`--control-socket-mode: '${text}' is not an octal mode such as 600`);
  return parseInt(text, 8);
}

/** What the operator can do when the directory is not safe. */
const REMEDY = 'or set XDG_RUNTIME_DIR, or name a path with --control-socket PATH (--no-control-socket: none at all).';

/**
 * The socket's directory, made if missing (0700), and checked: the default one
 * must be this user's alone; one named by --control-socket must be one nobody
 * else can swap the socket in.
 */
function prepareDirectory(directory: string): void {
  const isDefault = directory === controlDirectory();
  const check = () => (isDefault ? checkPrivateDirectory(directory, REMEDY) : checkSocketDirectory(directory, REMEDY));
  // Checked before mkdir too, which would follow a symlink planted in its place.
  check();
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  check();
}

/** Refuses to replace a socket another server still answers on, or anything else; clears one left by a crash. */
async function clearStale(path: string): Promise<void> {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch {
    return;
  }
  if (!stats.isSocket()) throw new Error(`${path} exists and is not a socket${stats.isSymbolicLink() ? ' (a symbolic link, left alone)' : ''}; choose another --control-socket`);
  if (stats.uid !== process.getuid?.()) throw new Error(`${path} is a socket owned by ${describeOwner(stats.uid)}, left alone; choose another --control-socket`);
  const answered = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
  if (answered) throw new Error(`another server answers on ${path}; choose another --control-socket`);
  unlinkSync(path);
}

/** One `events` client: what it has been told of each actor, so it hears of each change once. */
interface EventsView {
  send(event: ControlEvent): void;
  arbiter: string;
  workers: Map<string, string>;
  dirty: string;
  dirtyProcesses: Map<string, { pid: number | undefined; state: string }>;
}

export async function startControlServer(path: string, modeText: string, target: ControlTarget, logger: Logger): Promise<ControlServer> {
  const mode = parseMode(modeText);
  prepareDirectory(dirname(path));
  await clearStale(path);
  const startedAt = Date.now();
  const firstSeen = new Map<string, number>();
  const eventClients = new Set<EventsView>();
  const { server } = target;

  const remember = (status: ServerStatus) => {
    for (const worker of status.processes) if (!firstSeen.has(worker.id)) firstSeen.set(worker.id, Date.now());
  };
  const statusReply = (): StatusReply => {
    const status = server.status();
    remember(status);
    const now = Date.now();
    return {
      arbiter: {
        pid: process.pid,
        name: target.name,
        state: status.state,
        uptimeSeconds: Math.round((now - startedAt) / 1000),
        generation: status.generation,
        kind: target.kind,
        workers: status.workers,
        listeners: status.listeners,
        cpuSeconds: cpuSecondsOf(process.cpuUsage()),
      },
      workers: status.processes.map((worker) => ({
        id: worker.id,
        pid: worker.pid,
        kind: target.kind,
        state: shownState(worker),
        generation: worker.generation,
        ageSeconds: Math.round((now - (firstSeen.get(worker.id) ?? now)) / 1000),
        served: worker.stats.served,
        inFlight: worker.stats.inFlight,
        lagMs: worker.stats.lagMs,
        rssBytes: worker.stats.rss,
        cpuSeconds: worker.stats.cpuMicros === undefined ? null : worker.stats.cpuMicros / 1e6,
        ready: worker.ready,
        retiring: worker.retiring,
      })),
      ...(target.dirty ? { dirty: target.dirty.status() } : {}),
    };
  };

  const at = () => new Date().toISOString();
  const broadcast = (event: ControlEvent) => eventClients.forEach((view) => view.send(event));
  /** Tells `view` what changed since it last looked (everything, the first time). */
  const catchUp = (view: EventsView, { arbiter, workers, dirty }: StatusReply) => {
    if (arbiter.state !== view.arbiter) view.send({ at: at(), type: 'arbiter', state: (view.arbiter = arbiter.state) });
    for (const worker of workers) {
      if (view.workers.get(worker.id) === worker.state) continue;
      view.workers.set(worker.id, worker.state);
      view.send({ at: at(), type: 'worker', id: worker.id, pid: worker.pid, state: worker.state });
    }
    if (!dirty) return;
    if (dirty.state !== view.dirty) view.send({ at: at(), type: 'dirty', state: (view.dirty = dirty.state) });
    const listed = new Set<string>();
    for (const row of dirty.processes) {
      listed.add(row.id);
      const state = shownState(row);
      if (view.dirtyProcesses.get(row.id)?.state === state) continue;
      view.dirtyProcesses.set(row.id, { pid: row.pid, state });
      view.send({ at: at(), type: 'dirty-process', id: row.id, pid: row.pid, state });
    }
    for (const [id, { pid }] of view.dirtyProcesses) {
      if (listed.has(id)) continue;
      view.dirtyProcesses.delete(id);
      view.send({ at: at(), type: 'dirty-process', id, pid, state: 'gone' });
    }
  };
  const compare = () => {
    if (eventClients.size === 0) return;
    const status = statusReply();
    for (const view of eventClients) catchUp(view, status);
  };
  const onState = (status: ServerStatus) => {
    remember(status);
    compare();
  };
  const onExit = (exit: { id: string; pid: number | undefined; cause: string; exitCode: number | null; signal: string | null }) => {
    for (const view of eventClients) view.workers.delete(exit.id);
    broadcast({ at: at(), type: 'exit', id: exit.id, pid: exit.pid, cause: exit.cause, exitCode: exit.exitCode, signal: exit.signal });
  };
  const onReloaded = (outcome: { ok: boolean; reason?: string }) => broadcast({ at: at(), type: 'reloaded', ...outcome });
  server.on('state', onState);
  server.on('workerExit', onExit);
  server.on('reloaded', onReloaded);
  const poll = setInterval(compare, EVENTS_POLL_MS).unref();
  const stopWatching = () => {
    clearInterval(poll);
    server.off('state', onState);
    server.off('workerExit', onExit);
    server.off('reloaded', onReloaded);
  };

  const run = async (request: ControlRequest, reply: (message: ControlReply) => void, socket: net.Socket) => {
    const by = 'corral ctl';
    logger.info(`Control: ${request.command}${request.workers !== undefined ? ` ${request.workers}` : ''}${request.quick ? ' --quick' : ''}`);
    broadcast({ at: at(), type: 'command', command: request.command });
    const ok = (result: unknown) => reply({ v: CONTROL_PROTOCOL_VERSION, ok: true, result });
    switch (request.command) {
      case 'status':
        return ok(statusReply());
      case 'reload':
        await server.reload({ by });
        return ok({ generation: server.status().generation });
      case 'scale': {
        const text = String(request.workers);
        const current = server.status().workers;
        // Relative to the current count; the chart's minimum is enforced by scale(), which says so.
        const wanted = /^[+-]/.test(text) ? current + Number(text) : Number(text);
        server.scale(wanted);
        return ok({ from: current, to: wanted });
      }
      case 'dirty-scale': {
        if (!target.dirty) throw new CorralError('CORRAL_ERR_CTL', 'this server has no dirty pool: start it with --dirty-app MODULE');
        const text = String(request.workers);
        const current = target.dirty.status().workers;
        const wanted = /^[+-]/.test(text) ? current + Number(text) : Number(text);
        if (!acceptsDirtyWorkerCount(wanted)) throw new CorralError('CORRAL_ERR_ARGUMENT', `dirty-scale: the dirty pool needs at least ${MIN_DIRTY_WORKERS} process, got ${wanted}`);
        target.dirty.scale(wanted);
        return ok({ from: current, to: wanted });
      }
      case 'reopen-logs':
        target.send({ type: 'SIGNAL', signal: 'SIGUSR1', by });
        return ok({});
      case 'upgrade':
        target.send({ type: 'SIGNAL', signal: 'SIGUSR2', by });
        return ok({});
      case 'stop':
        // Answer first: the socket goes away with the arbiter.
        ok({});
        return void server.stop({ graceful: !request.quick, by });
      case 'inspector':
        if (!target.inspectorUrl) throw new CorralError('CORRAL_ERR_CTL', 'this server has no inspector: start it with --inspector HOST:PORT');
        return ok({ url: target.inspectorUrl });
      case 'events': {
        const view: EventsView = {
          send: (event) => socket.write(encodeFrame({ v: CONTROL_PROTOCOL_VERSION, event } satisfies ControlReply)),
          arbiter: '',
          workers: new Map(),
          dirty: '',
          dirtyProcesses: new Map(),
        };
        eventClients.add(view);
        socket.once('close', () => eventClients.delete(view));
        // The picture as it is now, to this client alone, then every change.
        return catchUp(view, statusReply());
      }
    }
  };

  const listener = net.createServer((socket) => {
    const decoder = new FrameDecoder(MAX_CONTROL_FRAME_BYTES);
    const reply = (message: ControlReply) => {
      if (!socket.destroyed) socket.write(encodeFrame(message));
    };
    const refuse = (code: string, message: string) => {
      reply({ v: CONTROL_PROTOCOL_VERSION, ok: false, error: { code, message } });
      socket.end();
    };
    socket.on('error', () => {});
    // One request per connection, sent at once: a connection that stays silent is not kept.
    socket.setTimeout(10_000, () => socket.destroy());
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      const { messages, error } = decoder.push(chunk);
      if (messages.length === 0 && !error) return;
      answered = true;
      // A reload may take long; only a client that never says anything is cut off.
      socket.setTimeout(0);
      if (error) return refuse(error.code, `${error.message}; send one msgpack frame with { v, command }`);
      let request: ControlRequest;
      try {
        request = parseControlRequest(messages[0]);
      } catch (invalid) {
        return refuse('CORRAL_ERR_CTL_REQUEST', (invalid as Error).message);
      }
      run(request, reply, socket).then(
        () => request.command !== 'events' && socket.end(),
        (failure: unknown) => refuse((failure as { code?: string }).code ?? 'CORRAL_ERR_CTL', describeError(failure)),
      );
    });
  });
  listener.on('error', (error) => logger.error(`Control socket ${path}: ${error.message}`));
  await listenWithMode(listener, path, mode).catch((error: unknown) => {
    stopWatching();
    throw error;
  });
  logger.info(`Control socket: ${path}`);

  return {
    path,
    close() {
      stopWatching();
      listener.close();
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}
