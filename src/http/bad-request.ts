// How corral turns down a request it will not hand to the app: the status
// (RFC 9110/9112), a one-line plain-text reason, `Connection: close`, and an
// INFO line in the error log — a client's mistake is not a server error.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';

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
  get bytes(): string {
    const body = this.body;
    return `HTTP/1.1 ${this.status} ${STATUS_CODES[this.status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body}`;
  }

  log(logger: Logger, peer: string | undefined): void {
    logger.info(`Invalid request from ${peer ?? 'unknown peer'}: ${this.status} ${STATUS_CODES[this.status] ?? ''} (${this.reason})`);
  }

  /** Answers through node's response (the request was parsed) and ends the connection after it. */
  answer(res: ServerResponse): void {
    const body = this.body;
    res.shouldKeepAlive = false;
    res.writeHead(this.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  }

  /** Answers on the bare connection and closes it once the answer is out. */
  answerOn(socket: Socket): void {
    if (socket.writable) socket.end(this.bytes);
    else socket.destroy();
  }
}
