// The main thread's side of one request served in a pool thread: the request
// as node's parser gave it, its body forwarded as it arrives (never more than
// WINDOW_BYTES ahead of what the app has consumed: past that the request is
// paused, and TCP pushes back on the client), and the thread's response bytes
// written to the client as they come back.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACK, ACK_EVERY_BYTES, type AckRecord, BODY, type BodyRecord, END, type EndRecord, type MessageBytes, REQUEST, type RequestRecord, type ResponseHead, WINDOW_BYTES } from './thread-messages.js';
import { addResponseBodyBytes } from '../log/response-body-bytes.js';
import { endResponse, takeHead, writeBytes } from './thread-response.js';
import { forwardEarlyHints } from '../http/write-early-hints.js';
import { addHttp2Trailers, isHttp2Response } from './thread-response-http2.js';

/** RFC 9110 9.2.2: requests a server may run twice with the same effect. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

const hasBody = (req: IncomingMessage) => {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
};

/** Where a forwarded request's records go: its thread's next message. */
export interface ForwardSink {
  send(request: ForwardedRequest, record: RequestRecord | EndRecord | AckRecord): void;
  /** The request has body bytes to go: a BodyRecord is built for it at the next flush. */
  touch(request: ForwardedRequest): void;
}

const NO_HEADERS: string[] = [];

/** Headers set on the main thread's response before the app runs, which the thread's response must carry. */
function presetHeaders(res: ServerResponse): string[] {
  const names = res.getHeaderNames();
  if (names.length === 0) return NO_HEADERS;
  return names.flatMap((name) => {
    const value = res.getHeader(name)!;
    return Array.isArray(value) ? value.flatMap((item) => [name, String(item)]) : [name, String(value)];
  });
}

export class ForwardedRequest {
  readonly hasBody: boolean;
  /** Safe to run again on another thread when its own is replaced, if nothing came back yet. */
  readonly retriable: boolean;
  /** Set while it runs on a thread. */
  sink: ForwardSink | undefined;
  /** Whether a BodyRecord is due at the next flush. */
  touched = false;
  /** Answered, failed, timed out or abandoned by the client: nothing more is sent or written. */
  done = false;
  headSeen = false;
  /** Already run again once, after its thread was replaced. */
  retried = false;
  private chunks: Buffer[] = [];
  private size = 0;
  private sent = 0;
  private credited = 0;
  private bodyEnded = false;
  private flushedUnacked = 0;

  constructor(
    readonly id: number,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** When its time started: on arrival, and again when it is run a second time. */
    public startedAt: number,
  ) {
    this.hasBody = hasBody(req);
    this.retriable = !this.hasBody && IDEMPOTENT.has(req.method!);
  }

  /** Hands the request to a thread: its head now, then what of its body has arrived. */
  start(sink: ForwardSink): void {
    this.sink = sink;
    const { req, res } = this;
    const socket = req.socket as IncomingMessage['socket'] & { encrypted?: boolean };
    sink.send(this, [
      REQUEST,
      this.id,
      req.method!,
      req.url!,
      req.httpVersion,
      req.rawHeaders,
      socket.remoteAddress,
      socket.remotePort,
      socket.remoteFamily,
      Boolean(socket.encrypted),
      res.shouldKeepAlive,
      !this.hasBody,
      presetHeaders(res),
    ]);
    if (this.size > 0) this.touchSink();
    if (this.bodyEnded) sink.send(this, [END, this.id, req.rawTrailers]);
  }

  /** A body chunk from node's parser. */
  body(chunk: Buffer): void {
    if (this.done) return;
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    this.sent += chunk.byteLength;
    if (this.sent - this.credited >= WINDOW_BYTES) this.req.pause();
    if (this.sink) this.touchSink();
  }

  bodyEnd(): void {
    if (this.done) return;
    this.bodyEnded = true;
    this.sink?.send(this, [END, this.id, this.req.rawTrailers]);
  }

  /** The app consumed this many more bytes. */
  credit(bytes: number): void {
    this.credited += bytes;
    if (!this.done && this.req.isPaused() && this.sent - this.credited < WINDOW_BYTES) this.req.resume();
  }

  /** Body bytes not sent yet. */
  get pendingBytes(): number {
    return this.size;
  }

  /** The record for the body bytes that arrived since the last flush, copied into the message's bytes. */
  take(into: MessageBytes): BodyRecord {
    this.touched = false;
    const record: BodyRecord = [BODY, this.id, into.take(this.chunks, this.size)];
    this.chunks = [];
    this.size = 0;
    return record;
  }

  /** A 103 the app asked for in the thread: sent on the real response, ahead of its head. */
  hints(fields: string[]): void {
    if (this.done || this.headSeen) return;
    forwardEarlyHints(this.res, fields);
  }

  /** Response bytes from the thread; true once the response is complete. */
  respond(bytes: Uint8Array | null, head: ResponseHead | null, final: boolean, bodyBytes: number, trailers: string | null): boolean {
    if (this.done) return final;
    const { res } = this;
    if (head) {
      this.headSeen = true;
      takeHead(res, head);
    }
    if (bytes) {
      const length = bytes.byteLength;
      // A complete response needs no acknowledgement: the thread is done with it.
      writeBytes(res, bytes, final ? undefined : () => this.flushed(length));
    }
    if (final) {
      this.finish();
      // Over HTTP/2 the bytes went through res.write, which counts them already.
      if (!isHttp2Response(res)) addResponseBodyBytes(res, bodyBytes);
      else if (trailers) addHttp2Trailers(res, trailers);
      endResponse(res);
    }
    return final;
  }

  /** Nothing more goes to or comes from the thread; a body still arriving is read and dropped. */
  finish(): void {
    this.done = true;
    this.chunks = [];
    if (!this.bodyEnded && this.req.isPaused()) this.req.resume();
  }

  private touchSink(): void {
    if (this.touched) return;
    this.touched = true;
    this.sink!.touch(this);
  }

  private flushed(bytes: number): void {
    if (this.done) return;
    this.flushedUnacked += bytes;
    if (this.flushedUnacked < ACK_EVERY_BYTES) return;
    this.sink?.send(this, [ACK, this.id, this.flushedUnacked]);
    this.flushedUnacked = 0;
  }
}
