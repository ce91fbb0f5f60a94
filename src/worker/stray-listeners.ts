// An app that calls listen() itself (app.listen(3000), the usual way to run it
// without corral) opens a server of its own in every worker, on all interfaces,
// beside the sockets corral serves it on: one worker gets the port, the others
// fail to. corral's own servers listen on the sockets the worker inherited
// ({ fd }); any other listen() in a worker is the app's, and is told, with the
// address and the app's line that called it.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { appFrames } from '../app/import-failure.js';
import type { Logger } from '../log/logger.js';

type ListenArgs = Parameters<net.Server['listen']>;

/** corral listens on inherited sockets only: `{ fd }`, or a handle passed as is. */
function isInheritedSocket(first: unknown): boolean {
  if (typeof first !== 'object' || first === null) return false;
  const options = first as { fd?: unknown; handle?: unknown; _handle?: unknown };
  return typeof options.fd === 'number' || options.handle !== undefined || options._handle !== undefined;
}

function describeAddress(address: ReturnType<net.Server['address']>): string {
  if (address === null) return 'an address';
  if (typeof address === 'string') return address;
  const everywhere = address.address === '::' || address.address === '0.0.0.0';
  return `${everywhere ? '*' : address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

const FIX = 'Export the app instead of calling listen(): corral listens for it on -b, in every worker.';

/** Watches this worker's listen() calls from now on; each server the app listens on itself is warned of once. */
export function watchStrayListeners(logger: Logger): void {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server, ...args: ListenArgs) {
    if (!isInheritedSocket(args[0])) {
      // Where it was called from, for the warning: the app's frames only.
      const calledAt = appFrames(new Error().stack ?? '').filter((frame) => !/\bnode:/.test(frame))[0]?.trim();
      const where = calledAt ? ` (${calledAt.replace(/^at /, 'listen() called at ')})` : '';
      const onListening = () =>
        logger.warning(`Worker (pid: ${process.pid}): the app listens on ${describeAddress(this.address())} itself${where}, besides the sockets corral serves it on. ${FIX}`);
      // Observed, not handled: the app's own error handling (or its absence) stays as it was.
      const onError = (error: NodeJS.ErrnoException & { port?: number; address?: string }) => {
        if (error.syscall !== 'listen') return;
        this.off('listening', onListening);
        const port = error.port !== undefined ? `port ${error.port}` : (error.address ?? 'its address');
        const why = error.code === 'EADDRINUSE' ? ' (another worker, or another process, has it)' : '';
        logger.warning(`Worker (pid: ${process.pid}): the app's own listen() on ${port} failed: ${error.code ?? error.message}${why}${where}. ${FIX}`);
      };
      // net.Server's typings take event names only; errorMonitor is a symbol every emitter takes.
      const emitter: EventEmitter = this;
      this.once('listening', onListening);
      emitter.once(EventEmitter.errorMonitor, onError);
      this.once('listening', () => emitter.off(EventEmitter.errorMonitor, onError));
    }
    return Reflect.apply(listen, this, args) as net.Server;
  } as typeof listen;
}
