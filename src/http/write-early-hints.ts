// res.writeEarlyHints(hints) on corral's servers: the hints are checked (see
// early-hints.ts), refused once the final head is written, left out for
// HTTP/1.0 clients, and handed to whatever carries the connection: the bytes
// of an HTTP/1.1 103, a HEADERS frame with :status 103 on an HTTP/2 stream, or
// a message to the main thread from a thread-kind pool thread (which sends
// them on its own response, in whatever protocol that one speaks). As with
// the Server header (server-header.ts), one patch of the response prototype
// that acts only for the servers registered here, found through the response
// (its request's socket, or its HTTP/2 stream's session); any other server of
// the process keeps node's own writeEarlyHints.
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import { type EarlyHints, EarlyHintsTooLate, earlyHintFields, http1EarlyHints, takesInterimResponses } from './early-hints.js';
import { requestLine } from './request-line.js';
import { nodeBuiltin } from '../node-builtin.js';

/** Sends checked fields (flat name/value pairs, never empty) ahead of `res`'s final response. */
export type EarlyHintsSender = (res: ServerResponse, fields: string[], callback?: () => void) => void;

const senderKey = Symbol('corral.earlyHints');
type WithSender = { [senderKey]?: EarlyHintsSender };
type RawWrite = { _writeRaw(data: string, encoding: BufferEncoding, callback?: () => void): boolean };
type NodeWriteEarlyHints = (this: ServerResponse, ...args: unknown[]) => unknown;
/** What corral uses of node:http2's compatibility response (Http2ServerResponse): the stream it answers on. */
type Http2Stream = { destroyed: boolean; session?: { server?: WithSender }; additionalHeaders(headers: Record<string, unknown>): void };
type Prototype = { writeEarlyHints: unknown };

const streamOf = (res: ServerResponse) => (res as unknown as { stream?: Http2Stream }).stream;

const patched = new WeakSet<Prototype>();

/** Every response of `server` (a node server, or a stand-in its request sockets name) sends early hints through `send`. */
export function sendEarlyHintsWith(server: object, send: EarlyHintsSender): void {
  (server as WithSender)[senderKey] = send;
  patchWriteEarlyHints(ServerResponse.prototype);
}

/** Every response of an HTTP/2 server (node:http2's compatibility API) sends its early hints as a 103 HEADERS frame. */
export function sendHttp2EarlyHints(server: Http2Server | Http2SecureServer): void {
  (server as unknown as WithSender)[senderKey] = writeHttp2EarlyHints;
  // node:http2 is loaded already: the server is one of its.
  const { Http2ServerResponse } = nodeBuiltin<typeof import('node:http2')>('node:http2');
  patchWriteEarlyHints(Http2ServerResponse.prototype);
}

/**
 * An HTTP/2 response's server is its session's; an HTTP/1 response's, its request socket's (a pipelined response
 * has no socket of its own until the one before it is done).
 */
function senderOf(res: ServerResponse): EarlyHintsSender | undefined {
  const stream = streamOf(res);
  if (stream) return stream.session?.server?.[senderKey];
  return (res.req?.socket as { server?: WithSender } | undefined)?.server?.[senderKey];
}

/** The response ended without its head (the client went away, the stream was reset). */
const gone = (res: ServerResponse) => res.destroyed === true || streamOf(res)?.destroyed === true;

/** An HTTP/1.1 connection: the 103's bytes, in order with the response's own (buffered while an earlier response on the connection is written). */
export const writeHttp1EarlyHints: EarlyHintsSender = (res, fields, callback) => {
  (res as unknown as RawWrite)._writeRaw(http1EarlyHints(fields), 'latin1', callback);
};

/** An HTTP/2 stream: one HEADERS frame with :status 103 (names lowercased, as HTTP/2 wants them; a repeated one as a list). */
export const writeHttp2EarlyHints: EarlyHintsSender = (res, fields, callback) => {
  const headers: Record<string, unknown> = { ':status': 103 };
  for (let index = 0; index < fields.length; index += 2) {
    const name = fields[index].toLowerCase();
    const before = headers[name];
    const value = fields[index + 1];
    headers[name] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  streamOf(res)!.additionalHeaders(headers);
  if (callback) process.nextTick(callback);
};

/**
 * Hands fields a pool thread already checked to `res`'s sender (the thread
 * kind's main thread). False when they cannot go: the head is out, or the
 * response is over, or the client takes no 1xx.
 */
export function forwardEarlyHints(res: ServerResponse, fields: string[]): boolean {
  // Checked already: an HTTP/2 response takes them even on a server not registered with sendHttp2EarlyHints.
  const send = senderOf(res) ?? (streamOf(res) ? writeHttp2EarlyHints : undefined);
  if (!send || fields.length === 0 || res.headersSent || gone(res) || !takesInterimResponses(res.req)) return false;
  send(res, fields);
  return true;
}

function patchWriteEarlyHints(prototype: Prototype): void {
  if (patched.has(prototype)) return;
  patched.add(prototype);
  const writeEarlyHintsOfNode = prototype.writeEarlyHints as NodeWriteEarlyHints;
  /** True once the hints are on their way; false when there is nothing to send or nobody to send it to. */
  function writeEarlyHints(this: ServerResponse<IncomingMessage>, hints: EarlyHints, callback?: () => void): boolean {
    const send = senderOf(this);
    if (!send) return writeEarlyHintsOfNode.apply(this, arguments as unknown as unknown[]) !== false;
    const fields = earlyHintFields(hints);
    if (this.headersSent) throw new EarlyHintsTooLate(requestLine(this.req));
    if (fields.length === 0 || gone(this) || !takesInterimResponses(this.req)) {
      if (typeof callback === 'function') process.nextTick(callback);
      return false;
    }
    send(this, fields, typeof callback === 'function' ? callback : undefined);
    return true;
  }
  prototype.writeEarlyHints = writeEarlyHints;
}
