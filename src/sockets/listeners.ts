// The arbiter's listening sockets. They are bound here and handed to every
// worker as inherited file descriptors; workers call listen() and accept on
// them directly (the pre-fork model), so the arbiter never accepts a connection.
import { lookup } from 'node:dns/promises';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { CorralError } from '../errors.js';
import { type BindAddress, parseBindAddress } from './bind-address.js';
import { ipVersion } from './ip-version.js';

export interface BoundListener {
  /** How users know it: http://127.0.0.1:8000, http://[::1]:8000, unix:/tmp/app.sock, fd://3 */
  url: string;
  fd: number;
  /** keepPath: leave a unix socket's file, because another arbiter still serves on it (upgrade). */
  close(options?: { keepPath?: boolean }): void;
  /**
   * At a stop, when workers accepted on it for themselves: accepts the connections waiting on it
   * now, gives each to `answer`, and closes it after that (a close() meanwhile waits for it).
   */
  answerWaiting(answer: (socket: net.Socket) => void): void;
}

interface ServerHandle {
  fd: number;
  close(): void;
  getsockname(out: Record<string, unknown>): number;
  listen(backlog: number): number;
  onconnection?: (status: number, client?: unknown) => void;
}

// node:net's binder used by node:cluster: binds without listening, so the
// arbiter holds the socket while only workers accept on it.
const createServerHandle = (net as unknown as {
  _createServerHandle(address: string | null, port: number | null, addressType?: number, fd?: number, flags?: number): ServerHandle | number;
})._createServerHandle;

const bindError = (address: string, code: number | string, hint: string) =>
  new CorralError('CORRAL_ERR_BIND', `Can't bind ${address}: ${typeof code === 'number' ? getSystemErrorName(code) : code}. ${hint}`);

const hintFor = (code: number) => {
  const name = getSystemErrorName(code);
  if (name === 'EADDRINUSE') return 'Another process is listening there; stop it or choose another address with -b.';
  if (name === 'EACCES') return 'Ports below 1024 need root (or CAP_NET_BIND_SERVICE); choose a higher port.';
  if (name === 'EADDRNOTAVAIL') return 'That address is not one of this machine\'s; check the host part of -b.';
  return 'Check the -b/--bind value.';
};

async function removeStaleUnixSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) {
    throw bindError(`unix:${path}`, 'EEXIST', 'A file that is not a socket is in the way; remove it or choose another path.');
  }
  // A socket someone still answers on is in use; one nobody answers on is left over from a crash.
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => (probe.destroy(), resolve(true)));
    probe.once('error', () => resolve(false));
  });
  if (live) throw bindError(`unix:${path}`, 'EADDRINUSE', 'Another server is listening on that socket; stop it or choose another path.');
  unlinkSync(path);
}

function listenerFor(handle: ServerHandle, url: string): BoundListener {
  const unixPath = url.startsWith('unix:') ? url.slice('unix:'.length) : undefined;
  let closed = false;
  /** Set while answering what waits: the close asked for meanwhile. */
  let closeAfterAnswering: { keepPath?: boolean } | undefined;
  let answering = false;
  const listener: BoundListener = {
    url,
    fd: handle.fd,
    close(options = {}) {
      if (closed) return;
      if (answering) return void (closeAfterAnswering = options);
      closed = true;
      // libuv unlinks a unix socket's file when the handle that bound it closes; to keep the
      // file, leave the handle to the process's exit, which closes the fd without unlinking.
      if (unixPath && options.keepPath) return;
      handle.close();
      if (unixPath) {
        try {
          unlinkSync(unixPath);
        } catch {
          // already gone
        }
      }
    },
    answerWaiting(answer) {
      if (closed || answering) return;
      let accepted = 0;
      // This very handle accepts (another on the same fd would close it twice).
      handle.onconnection = (status, client) => {
        if (status !== 0 || !client) return;
        accepted += 1;
        answer(new net.Socket({ handle: client, readable: true, writable: true } as net.SocketConstructorOpts));
      };
      if (handle.listen(511) !== 0) return;
      answering = true;
      // A poll accepts what waits; the check phase after it (the first immediate runs before that poll) closes
      // the handle once a poll found nothing more.
      const closeWhenDone = () =>
        setImmediate(() =>
          setImmediate(() => {
            if (accepted > 0) {
              accepted = 0;
              return closeWhenDone();
            }
            answering = false;
            listener.close(closeAfterAnswering ?? {});
          }),
        );
      closeWhenDone();
    },
  };
  return listener;
}

/**
 * A socket this process inherited already bound (fd://N, systemd's LISTEN_FDS,
 * an upgrading arbiter's). It is adopted as it is; its address is read back for
 * the log, unless the one who passed it said what it is (`knownUrl`).
 */
function adoptFd(fd: number, knownUrl?: string): BoundListener {
  const handle = createServerHandle(null, 0, undefined, fd);
  if (typeof handle === 'number') {
    throw bindError(`fd://${fd}`, handle, 'It is not an open socket; check what passed the file descriptor.');
  }
  if (knownUrl) return listenerFor(handle, knownUrl);
  const name: { address?: string; port?: number; family?: string } = {};
  const isTcp = typeof handle.getsockname === 'function' && handle.getsockname(name) === 0 && name.port !== undefined;
  const host = String(name.family) === 'IPv6' || String(name.family) === '6' ? `[${name.address}]` : name.address;
  return listenerFor(handle, isTcp ? `http://${host}:${name.port}` : `fd://${fd}`);
}

/**
 * LISTEN_FDS meant for another process: systemd names the pid it started in
 * LISTEN_PID, and a launcher between it and corral (npx, npm start, a shell
 * without exec) is that pid. The sockets are not ours to take, so -b is bound
 * instead, and the activated socket is never answered: say why and what to do.
 */
export function misdirectedActivation(env: NodeJS.ProcessEnv, pid = process.pid): string | undefined {
  if (!env.LISTEN_FDS || env.LISTEN_PID === String(pid)) return undefined;
  const named = env.LISTEN_PID ? `LISTEN_PID=${env.LISTEN_PID}, another process (this one is ${pid})` : 'no LISTEN_PID';
  return (
    `LISTEN_FDS=${env.LISTEN_FDS} is set with ${named}, so the sockets systemd passed are not for corral: ` +
    'binding -b instead, and connections to the activated socket will wait unanswered. ' +
    'A launcher between systemd and corral (npx, npm start, a shell script without exec) is the process systemd named: ' +
    'set ExecStart= to the corral bin itself (e.g. /srv/app/node_modules/.bin/corral app.js), or exec corral from the script.'
  );
}

/** systemd socket activation: the fds (from 3) it passed, when LISTEN_PID names this process. */
export function socketActivationFds(env: NodeJS.ProcessEnv, pid = process.pid): number[] {
  if (env.LISTEN_PID !== String(pid)) return [];
  const count = Number(env.LISTEN_FDS);
  return Number.isInteger(count) && count > 0 ? Array.from({ length: count }, (_, index) => 3 + index) : [];
}

export const adoptAll = (inherited: readonly { fd: number; url?: string }[]): BoundListener[] =>
  inherited.map(({ fd, url }) => adoptFd(fd, url));

async function bindOne(address: BindAddress): Promise<BoundListener> {
  if (address.type === 'fd') return adoptFd(address.fd);
  if (address.type === 'unix') {
    await removeStaleUnixSocket(address.path);
    const handle = createServerHandle(address.path, -1, -1);
    if (typeof handle === 'number') throw bindError(`unix:${address.path}`, handle, hintFor(handle));
    return listenerFor(handle, `unix:${address.path}`);
  }
  let host = address.host;
  let family: number = ipVersion(host);
  if (family === 0) {
    try {
      ({ address: host, family } = await lookup(address.host));
    } catch {
      throw bindError(`${address.host}:${address.port}`, 'ENOTFOUND', `The host name '${address.host}' does not resolve; use an IP address.`);
    }
  }
  const shown = family === 6 ? `[${host}]` : host;
  const handle = createServerHandle(host, address.port, family);
  if (typeof handle === 'number') throw bindError(`${shown}:${address.port}`, handle, hintFor(handle));
  const name: { port?: number } = {};
  // libuv defers a failed bind (EADDRINUSE) to listen(); getsockname reports it now,
  // before a worker's listen() would quietly bind an unbound socket to a random port.
  const deferred = handle.getsockname(name);
  if (deferred) {
    handle.close();
    throw bindError(`${shown}:${address.port}`, deferred, hintFor(deferred));
  }
  return listenerFor(handle, `http://${shown}:${name.port}`);
}

/** Binds every address, or none: on the first failure the ones already bound are closed. */
export async function bindAll(rawAddresses: readonly string[]): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const raw of rawAddresses) bound.push(await bindOne(parseBindAddress(raw)));
    return bound;
  } catch (error) {
    for (const listener of bound) listener.close();
    throw error;
  }
}
