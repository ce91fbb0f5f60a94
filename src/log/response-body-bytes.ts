// How many body bytes a response sent, for the access log's %(B)s and %(b)s.
// Node keeps no such count and Content-Length is absent from chunked responses,
// so ServerResponse's write() and end() are wrapped once, on the prototype: no
// per-request closure, and middleware that wraps res.write (compression) still
// ends up here with the bytes that actually go out.
import { type IncomingMessage, ServerResponse } from 'node:http';

const sent = Symbol('corral.bodyBytes');

interface CountedResponse extends ServerResponse {
  [sent]?: number;
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

let wanted = false;
/** Response classes whose writes are counted once counting is on: ServerResponse, and HTTP/2's when it is served. */
const classes = new Map<object, boolean>();
const patched = new WeakSet<object>();

/** Starts counting body bytes on every ServerResponse of this process (and HTTP/2 response, see countBodyBytesOf). Idempotent. */
export function countResponseBodyBytes(): void {
  wanted = true;
  classes.set(ServerResponse.prototype, false);
  for (const [prototype, endWrites] of classes) patch(prototype as ServerResponse, endWrites);
}

/**
 * Another response class (node:http2's compatibility response) whose body bytes are counted too when counting is on.
 * `endWrites`: its end(chunk) writes the chunk through its own write(), which counts it already.
 */
export function countBodyBytesOf(prototype: object, endWrites: boolean): void {
  classes.set(prototype, endWrites);
  if (wanted) patch(prototype as ServerResponse, endWrites);
}

function patch(prototype: ServerResponse, endWrites: boolean): void {
  if (patched.has(prototype)) return;
  patched.add(prototype);
  const { write, end } = prototype;
  prototype.write = function (this: CountedResponse, chunk: unknown, encoding?: unknown) {
    // Writes after end() are refused by node; they sent nothing.
    if (!this.writableEnded) this[sent] = (this[sent] ?? 0) + byteLength(chunk, encoding);
    return write.apply(this, arguments as unknown as Parameters<typeof write>);
  } as typeof write;
  if (endWrites) return;
  prototype.end = function (this: CountedResponse, chunk?: unknown, encoding?: unknown) {
    if (!this.writableEnded && typeof chunk !== 'function') this[sent] = (this[sent] ?? 0) + byteLength(chunk, encoding);
    return end.apply(this, arguments as unknown as Parameters<typeof end>);
  } as typeof end;
}

/** Counts body bytes written elsewhere: the thread kind's app writes its response in a pool thread. */
export function addResponseBodyBytes(res: ServerResponse<IncomingMessage>, bytes: number): void {
  (res as CountedResponse)[sent] = ((res as CountedResponse)[sent] ?? 0) + bytes;
}

/** Status codes whose responses carry no body, whatever the app wrote. */
const bodiless = (status: number) => status === 204 || status === 304 || (status >= 100 && status < 200);

/** Body bytes `res` sent (0 for HEAD, 1xx, 204 and 304, where node drops the body). */
export function responseBodyBytes(res: ServerResponse<IncomingMessage>): number {
  const count = (res as CountedResponse)[sent];
  if (count === undefined || res.req?.method === 'HEAD' || bodiless(res.statusCode)) return 0;
  return count;
}
