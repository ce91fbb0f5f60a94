// How corral turns down a request it will not hand to the app: the status
// (RFC 9110/9112), a one-line plain-text reason, `Connection: close`, and an
// INFO line in the error log — a client's mistake is not a server error.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { answerFailure } from './answer-failure.js';

export class BadRequest {
  constructor(
    readonly status: number,
    /** What was wrong, for the client and the log: "two Host headers". */
    readonly reason: string,
  ) {}

  get body(): string {
    return `${STATUS_CODES[this.status] ?? 'Error'}: ${this.reason}\n`;
  }

  /** The whole response, for a connection with no ServerResponse (the parser failed, or before it ran). */
  bytes(server: string): string {
    const body = this.body;
    return (
      `HTTP/1.1 ${this.status} ${STATUS_CODES[this.status] ?? 'Error'}\r\n${server ? `Server: ${server}\r\n` : ''}Date: ${new Date().toUTCString()}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
    );
  }

  log(logger: Logger, peer: string | undefined): void {
    logger.info(`Invalid request from ${peer ?? 'unknown peer'}: ${this.status} ${STATUS_CODES[this.status] ?? ''} (${this.reason})`);
  }

  /** Answers through node's response (the request was parsed) and ends the connection after it. */
  answer(res: ServerResponse, server: string): void {
    markRefused(res.socket);
    answerFailure(res, this.status, this.body, { 'content-type': 'text/plain; charset=utf-8', ...(server ? { server } : {}) });
  }

  /** Answers on the bare connection and closes it once the answer is out. */
  answerOn(socket: Socket, server: string): void {
    markRefused(socket);
    if (!socket.writable) return void socket.destroy();
    socket.end(this.bytes(server));
    // Read and drop whatever the client still sends, so its close is seen and the connection ends.
    socket.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  }
}

/** How long a refused connection may keep sending before it is cut. */
const LINGER_MS = 5000;
const refusedKey = Symbol('corral.refused');

export function markRefused(socket: Socket | null): void {
  if (socket) (socket as Socket & { [refusedKey]?: true })[refusedKey] = true;
}

/** This connection's last answer was a refusal: whatever follows on it gets none. */
export function wasRefused(socket: Socket): boolean {
  return (socket as Socket & { [refusedKey]?: true })[refusedKey] === true;
}
