// The thread kind's response for a request that came over HTTP/2. The pool
// thread's ServerResponse serves an HTTP/2 request as it would an HTTP/1.0 one
// (node: a version below 1.1 gets no chunked framing): a head, then the body's
// bytes as they are. The head becomes the HTTP/2 response's status and fields,
// without the connection-specific ones HTTP/2 forbids (RFC 9113 §8.2.2), and
// the bytes its DATA frames. The trailers the app added (which HTTP/1.0 bytes
// cannot carry) come as their lines with the last bytes, and become the
// stream's trailers, sent by node:http2's compatibility response as the async
// kind's are.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { CONNECTION_SPECIFIC } from '../http/http2-connection-fields.js';
import type { ResponseHead } from './thread-messages.js';

/** node:http2's compatibility response: it has the stream it answers on. */
export const isHttp2Response = (res: ServerResponse) => (res as { stream?: unknown }).stream !== undefined;

/** The fields of an HTTP/1.x head block (`HTTP/1.1 200 OK\r\nName: value\r\n…\r\n\r\n`), repeated names as lists. */
export const headFields = (block: string): OutgoingHttpHeaders => fieldLines(block, 1);

/** The fields of `Name: value\r\n` lines from the `from`th on, lower-cased, repeated names as lists, without the connection-specific ones. */
function fieldLines(block: string, from: number): OutgoingHttpHeaders {
  const fields: OutgoingHttpHeaders = {};
  const lines = block.split('\r\n');
  for (let index = from; index < lines.length; index += 1) {
    const line = lines[index];
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    if (CONNECTION_SPECIFIC.has(name)) continue;
    const value = line.slice(colon + 1).trim();
    const before = fields[name];
    if (before === undefined) fields[name] = value;
    else fields[name] = Array.isArray(before) ? [...before, value] : [String(before), value];
  }
  return fields;
}

/** What is known of the thread's bytes: the head not written yet, and how many of its bytes are still to come. */
const stateKey = Symbol('corral.http2Head');
type WithHeadState = ServerResponse & { [stateKey]?: { head?: ResponseHead; headBytes: number } };

const INTERIM = Buffer.from('HTTP/1.1 1', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** The head is written with the first bytes, after any interim response the thread wrote before it. */
export function takeHttp2Head(res: ServerResponse, head: ResponseHead): void {
  (res as WithHeadState)[stateKey] = { head, headBytes: Buffer.byteLength(head[2], 'latin1') };
}

/** Interim responses become HTTP/2 ones, the head the response's HEADERS, the rest DATA. */
export function writeHttp2Bytes(res: ServerResponse, bytes: Buffer, written?: () => void): void {
  const state = (res as WithHeadState)[stateKey];
  if (!state || state.head) {
    // Before the final head: 1xx responses (each a whole head block: node writes one in one go) are HTTP/1.1's and
    // left out; early hints come as their own record (HINTS) and are sent on the HTTP/2 response by the main thread.
    while (bytes.subarray(0, INTERIM.length).equals(INTERIM)) {
      const end = bytes.indexOf(HEAD_END);
      if (end < 0) break;
      bytes = bytes.subarray(end + HEAD_END.length);
    }
  }
  if (state?.head) {
    const [statusCode, , header] = state.head;
    state.head = undefined;
    res.writeHead(statusCode, headFields(header));
  }
  if (state && state.headBytes > 0) {
    const skipped = Math.min(state.headBytes, bytes.length);
    state.headBytes -= skipped;
    bytes = bytes.subarray(skipped);
  }
  if (bytes.length === 0) return void written?.();
  res.write(bytes, written);
}

/** A head that came with no bytes of its own is written before the response ends. */
export function endHttp2Response(res: ServerResponse): void {
  const state = (res as WithHeadState)[stateKey];
  if (state?.head) writeHttp2Bytes(res, Buffer.alloc(0));
  res.end();
}

/**
 * The trailer lines the app added in the thread (node checked their names and
 * values there), handed to the compatibility response, which sends them once
 * the body is done, as it does for an app in the async kind.
 */
export function addHttp2Trailers(res: ServerResponse, lines: string): void {
  res.addTrailers(fieldLines(lines, 0));
}
