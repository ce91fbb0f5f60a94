// res.writeEarlyHints(hints) on corral's servers: the hints are checked (see
// early-hints.ts), refused once the final head is written, left out for
// HTTP/1.0 clients, and handed to whatever carries the connection: the bytes
// of an HTTP/1.1 103 on a server of this process, a message to the main
// thread from a thread-kind pool thread (which sends them on its own
// response, in whatever protocol that one speaks). As with the Server header
// (server-header.ts), one patch of ServerResponse.prototype that acts only for
// the servers registered here, found through the response's request socket;
// any other server of the process keeps node's own writeEarlyHints.
import { type IncomingMessage, ServerResponse } from 'node:http';
import { type EarlyHints, EarlyHintsTooLate, earlyHintFields, http1EarlyHints, takesInterimResponses } from './early-hints.js';
import { requestLine } from './request-line.js';

/** Sends checked fields (flat name/value pairs, never empty) ahead of `res`'s final response. */
export type EarlyHintsSender = (res: ServerResponse, fields: string[], callback?: () => void) => void;

const senderKey = Symbol('corral.earlyHints');
type WithSender = { [senderKey]?: EarlyHintsSender };
type RawWrite = { _writeRaw(data: string, encoding: BufferEncoding, callback?: () => void): boolean };
type NodeWriteEarlyHints = (this: ServerResponse, ...args: unknown[]) => unknown;

let patched = false;

/** Every response of `server` (a node server, or a stand-in its request sockets name) sends early hints through `send`. */
export function sendEarlyHintsWith(server: object, send: EarlyHintsSender): void {
  (server as WithSender)[senderKey] = send;
  if (!patched) patchWriteEarlyHints();
}

/** Through the request: a pipelined response has no socket of its own until the one before it is done. */
const senderOf = (res: ServerResponse) => (res.req?.socket as { server?: WithSender } | undefined)?.server?.[senderKey];

/** An HTTP/1.1 connection: the 103's bytes, in order with the response's own (buffered while an earlier response on the connection is written). */
export const writeHttp1EarlyHints: EarlyHintsSender = (res, fields, callback) => {
  (res as unknown as RawWrite)._writeRaw(http1EarlyHints(fields), 'latin1', callback);
};

/**
 * Hands fields a pool thread already checked to `res`'s sender (the thread
 * kind's main thread). False when they cannot go: the head is out, or the
 * response is over, or the client takes no 1xx.
 */
export function forwardEarlyHints(res: ServerResponse, fields: string[]): boolean {
  const send = senderOf(res);
  if (!send || fields.length === 0 || res.headersSent || res.destroyed || !takesInterimResponses(res.req)) return false;
  send(res, fields);
  return true;
}

function patchWriteEarlyHints(): void {
  patched = true;
  const writeEarlyHintsOfNode = ServerResponse.prototype.writeEarlyHints as unknown as NodeWriteEarlyHints;
  /** True once the hints are on their way; false when there is nothing to send or nobody to send it to. */
  function writeEarlyHints(this: ServerResponse<IncomingMessage>, hints: EarlyHints, callback?: () => void): boolean {
    const send = senderOf(this);
    if (!send) return writeEarlyHintsOfNode.apply(this, arguments as unknown as unknown[]) !== false;
    const fields = earlyHintFields(hints);
    if (this.headersSent) throw new EarlyHintsTooLate(requestLine(this.req));
    if (fields.length === 0 || this.destroyed || !takesInterimResponses(this.req)) {
      if (typeof callback === 'function') process.nextTick(callback);
      return false;
    }
    send(this, fields, typeof callback === 'function' ? callback : undefined);
    return true;
  }
  ServerResponse.prototype.writeEarlyHints = writeEarlyHints as unknown as ServerResponse['writeEarlyHints'];
}
