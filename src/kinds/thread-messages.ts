// What crosses between the main thread and a pool thread of the thread kind.
// Each side gathers what it has to say in one turn of its event loop into one
// postMessage: an array of records, each a small array whose first item says
// what it is. Bytes travel as Uint8Arrays, views of one fresh ArrayBuffer a
// message that is transferred (moved, not copied). Request ids are the main thread's.
import type { AppOrigin, AppShape } from '../app/app-shape.js';

/** Main thread → pool thread. */
export const REQUEST = 0;
export const BODY = 1;
export const END = 2;
export const ABORT = 3;
export const ACK = 4;

/** Pool thread → main thread. */
export const DATA = 0;
export const FAIL = 1;
export const CREDIT = 2;
export const HINTS = 3;

/**
 * A request as node's parser handed it to the main thread. `ended`: it has no
 * body (nothing more follows but, perhaps, ABORT).
 */
export type RequestRecord = [
  type: typeof REQUEST,
  id: number,
  method: string,
  url: string,
  httpVersion: string,
  rawHeaders: string[],
  remoteAddress: string | undefined,
  remotePort: number | undefined,
  remoteFamily: string | undefined,
  encrypted: boolean,
  keepAlive: boolean,
  ended: boolean,
  /** Headers already set on the response before the app runs (an X-Request-Id), as name/value pairs: the thread's response starts with them. */
  responseHeaders: string[],
];
/** Request body bytes, in order. */
export type BodyRecord = [type: typeof BODY, id: number, bytes: Uint8Array];
/** The request body is complete; its trailer lines as received. */
export type EndRecord = [type: typeof END, id: number, rawTrailers: string[]];
/** The client went away before the response was done. */
export type AbortRecord = [type: typeof ABORT, id: number];
/** This many response bytes reached the client's socket: the thread may write that many more. */
export type AckRecord = [type: typeof ACK, id: number, bytes: number];
export type ToThread = RequestRecord | BodyRecord | EndRecord | AbortRecord | AckRecord;

/** What the main thread's response needs to know once the app has written its head. */
export type ResponseHead = [statusCode: number, statusMessage: string, header: string, last: boolean];
/**
 * Response bytes exactly as node's ServerResponse wrote them in the thread
 * (head, framing, body, trailers), to be written to the client as they are.
 * `head` comes with the first record after the head was written; `final`: the
 * response is complete, and `bodyBytes` says how many body bytes the app wrote
 * (for the access log). `trailers`, on the final record of a request that came
 * over HTTP/2: the trailer lines the app added (`Name: value\r\n` each), which
 * the bytes cannot carry (no chunked framing there), or null when it added none.
 */
export type DataRecord = [type: typeof DATA, id: number, bytes: Uint8Array | null, head: ResponseHead | null, final: boolean, bodyBytes: number, trailers: string | null];
/** The app threw, or its promise rejected. */
export type FailRecord = [type: typeof FAIL, id: number, error: string];
/** The app consumed this many more body bytes: the main thread may send that many more. */
export type CreditRecord = [type: typeof CREDIT, id: number, bytes: number];
/**
 * The app asked for a 103 Early Hints (checked in the thread, before its head):
 * the main thread sends it on its own response, in that connection's protocol.
 */
export type HintsRecord = [type: typeof HINTS, id: number, fields: string[]];
export type ToMain = DataRecord | FailRecord | CreditRecord | HintsRecord;

/** The first message of every thread: the app is loaded, or could not be. */
export type ThreadStarted = { loaded: { shape: AppShape; origin: AppOrigin } } | { failed: string };

/**
 * Bytes in flight one way before the sender waits for a CREDIT (request body)
 * or an ACK (response): a request body the app does not read, or a response a
 * slow client does not take, holds at most this much per request.
 */
export const WINDOW_BYTES = 256 * 1024;
/** The receiver answers once this much is consumed, so a window never stalls half used. */
export const ACK_EVERY_BYTES = WINDOW_BYTES / 2;

export interface ThreadData {
  appModule: string;
  cwd: string;
  /** Sent as Keep-Alive: timeout=… on kept-alive responses, as node's server does. */
  keepAliveMs: number;
  serverHeader: string;
  /** [0] is 1 once the worker drains: every response whose head is not written yet says Connection: close. */
  draining: Int32Array;
}

/**
 * The bytes of one message: every record's bytes are a view of one fresh
 * ArrayBuffer, transferred once. A transfer costs far more than copying a
 * small response, so one per message instead of one per record is what lets a
 * batch of small responses cost little more than one.
 */
export class MessageBytes {
  private readonly all: Uint8Array;
  private offset = 0;

  constructor(length: number) {
    this.all = new Uint8Array(length);
  }

  /** Copies chunks (`length` bytes in all) into the next part of the message's buffer. */
  take(chunks: Uint8Array[], length: number): Uint8Array {
    const view = this.all.subarray(this.offset, this.offset + length);
    let at = 0;
    for (const chunk of chunks) {
      view.set(chunk, at);
      at += chunk.byteLength;
    }
    this.offset += length;
    return view;
  }

  get transferList(): ArrayBuffer[] {
    return this.all.byteLength > 0 ? [this.all.buffer as ArrayBuffer] : [];
  }
}

/**
 * The slots of the handler-time array a pool thread shares with the main thread: [0] its handlers' running
 * average in microseconds, [HANDLER_STARTED] when the handler it runs now began (handlerClock), 0 between handlers.
 */
export const HANDLER_SLOTS = 2;
export const HANDLER_STARTED = 1;
/** Milliseconds on a clock both threads read alike (the wall clock's low 31 bits), never 0 (0 means "no handler"). */
export const handlerClock = () => (Date.now() & 0x7fffffff) || 1;
/** Milliseconds since `since` (a handlerClock reading), across the clock's wrap. */
export const handlerClockSince = (since: number) => (handlerClock() - since) & 0x7fffffff;
