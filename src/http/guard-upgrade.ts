// An app's upgrade handler that throws (or rejects) is logged, and the client
// gets a 500 when nothing was written to it yet; the worker stays up.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpgradeHandler } from '../app/app-shape.js';
import type { Logger } from '../log/logger.js';

const FAILED = 'HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

export function guardUpgrade(upgrade: UpgradeHandler, logger: Logger): UpgradeHandler {
  const fail = (req: IncomingMessage, socket: Duplex, error: unknown) => {
    logger.error(`Error handling upgrade ${req.method} ${req.url}: ${error instanceof Error ? error.stack : String(error)}`);
    const untouched = 'bytesWritten' in socket && socket.bytesWritten === 0;
    if (untouched && socket.writable) socket.end(FAILED);
    else socket.destroy();
  };
  return (req, socket, head) => {
    // A client that vanishes mid-handshake must not become an uncaught 'error'.
    socket.on('error', () => {});
    try {
      const result = upgrade(req, socket, head);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (error: unknown) => fail(req, socket, error));
      }
    } catch (error) {
      fail(req, socket, error);
    }
  };
}
