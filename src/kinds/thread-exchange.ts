// One request in a pool thread: node's own IncomingMessage and ServerResponse
// over a ThreadSocket, set up as node's server sets them up for the async kind
// (method, target, version, raw header and trailer lines, keep-alive), so an
// app and its framework behave as they would there. The body is pushed in as it
// arrives, with credit back to the main thread as the app consumes it; what the
// response writes goes back as raw bytes, with the head's facts once written.
import { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeHandler } from '../app/app-shape.js';
import { describeError } from '../errors.js';
import { responseBodyBytes } from '../log/response-body-bytes.js';
import { ACK_EVERY_BYTES, type DataRecord, DATA, type MessageBytes, type RequestRecord, type ResponseHead, WINDOW_BYTES } from './thread-messages.js';
import { storeHeadForHttp2 } from './thread-http2-head.js';
import { ThreadSocket, type ResponseSink } from './thread-socket.js';

export interface ThreadOutbox {
  /** The exchange has bytes (or its end) to send: a DataRecord is built for it at the next flush. */
  touch(exchange: ThreadExchange): void;
  fail(id: number, error: string): void;
  credit(id: number, bytes: number): void;
  hints(id: number, fields: string[]): void;
  closed(exchange: ThreadExchange): void;
}

/** node's internals the exchange fills in as node's http server does. */
type NodeRequest = IncomingMessage & {
  _addHeaderLines(headers: string[], count: number): void;
  _dump(): void;
  _consuming: boolean;
  _readableState: { readingMore: boolean };
};
type NodeResponse = ServerResponse & {
  _header: string | null;
  /** The trailer lines addTrailers built (`Name: value\r\n` each), '' when there are none. */
  _trailer: string;
  _last: boolean;
  _keepAliveTimeout: number;
  _closed: boolean;
};

export interface ExchangeSettings {
  keepAliveMs: number;
  /** The stand-in server the Server header (when one is sent) and the early hints sender are registered on. */
  server: object;
}

export class ThreadExchange implements ResponseSink {
  readonly req: NodeRequest;
  readonly res: NodeResponse;
  private readonly socket: ThreadSocket;
  private chunks: Uint8Array[] = [];
  private size = 0;
  /** Response bytes sent and not yet acknowledged as taken by the client. */
  private unacked = 0;
  private held: (() => void) | undefined;
  private headSent = false;
  finished = false;
  /** Whether a DataRecord is due for this exchange at the next flush. */
  touched = false;
  private done = false;
  private pushed = 0;
  private credited = 0;

  constructor(
    readonly id: number,
    record: RequestRecord,
    private readonly out: ThreadOutbox,
    settings: ExchangeSettings,
  ) {
    const [, , method, url, httpVersion, rawHeaders, remoteAddress, remotePort, remoteFamily, encrypted, keepAlive, , responseHeaders] = record;
    const socket = new ThreadSocket(this);
    socket.remoteAddress = remoteAddress;
    socket.remotePort = remotePort;
    socket.remoteFamily = remoteFamily;
    if (encrypted) socket.encrypted = true;
    socket.server = settings.server;
    this.socket = socket;

    const req = new IncomingMessage(socket as never) as NodeRequest;
    req.method = method;
    req.url = url;
    req.httpVersion = httpVersion;
    req.httpVersionMajor = Number(httpVersion[0]);
    req.httpVersionMinor = Number(httpVersion[2]);
    // As node's parser does: headers and headersDistinct are built from these when first asked for.
    req._addHeaderLines(rawHeaders, rawHeaders.length);
    // As node's own _read the first time (see IncomingMessage): the body is pushed in, not pulled.
    req._read = () => {
      if (req._consuming) return;
      req._consuming = true;
      req._readableState.readingMore = false;
    };
    // Every way of consuming a stream (data events, read(), pipe, async iteration) goes through read().
    const read = req.read;
    req.read = (size?: number) => {
      const chunk = read.call(req, size);
      this.creditConsumed();
      return chunk;
    };
    this.req = req;

    const res = new ServerResponse(req) as unknown as NodeResponse;
    res.shouldKeepAlive = keepAlive;
    res._keepAliveTimeout = settings.keepAliveMs;
    res.assignSocket(socket as never);
    // node's server tells a response its socket drained (socketOnDrain); nothing else would here, and an app that
    // waits for 'drain' after a write returned false (streaming with backpressure) would wait forever.
    socket.on('drain', () => {
      if (!res.writableEnded) res.emit('drain');
    });
    res.once('finish', () => this.finish());
    if (req.httpVersionMajor === 2) storeHeadForHttp2(res);
    for (let index = 0; index < responseHeaders.length; index += 2) res.appendHeader(responseHeaders[index], responseHeaders[index + 1]);
    this.res = res;
  }

  run(handler: NodeHandler): void {
    try {
      const result = handler(this.req, this.res);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (error: unknown) => this.fail(error));
      }
    } catch (error) {
      this.fail(error);
    }
  }

  body(bytes: Uint8Array): void {
    if (this.done) return;
    this.pushed += bytes.byteLength;
    this.req.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** The body is complete: as node's parser ends a message. */
  end(rawTrailers: string[]): void {
    if (this.req.complete || this.req.destroyed) return;
    this.req.complete = true;
    if (rawTrailers.length > 0) this.req._addHeaderLines(rawTrailers, rawTrailers.length);
    this.req.push(null);
  }

  /** The client went away: as node's server aborts a request whose connection closed. */
  abort(): void {
    if (this.done) return;
    this.close();
    if (!this.req.complete) {
      const error = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      this.req.destroy(error);
    }
    this.socket.destroy();
  }

  acknowledged(bytes: number): void {
    this.unacked -= bytes;
    if (this.held && this.unacked <= WINDOW_BYTES) {
      const held = this.held;
      this.held = undefined;
      held();
    }
  }

  collect(chunks: Uint8Array[], done: () => void): void {
    for (const chunk of chunks) {
      this.chunks.push(chunk);
      this.size += chunk.byteLength;
      this.unacked += chunk.byteLength;
    }
    this.out.touch(this);
    // Past the window the response waits (its write() returns false) until the client has taken more.
    if (this.unacked > WINDOW_BYTES && !this.done) this.held = done;
    else done();
  }

  /** Queued ahead of the response's bytes: hints come before the head, and nothing is written before the head. */
  hints(fields: string[]): void {
    if (this.done) return;
    this.out.hints(this.id, fields);
  }

  /** Bytes written since the last flush. */
  get pendingBytes(): number {
    return this.size;
  }

  /** The record for what was written since the last flush, its bytes copied into the message's. */
  take(into: MessageBytes): DataRecord {
    this.touched = false;
    const bytes = this.size === 0 ? null : into.take(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    let head: ResponseHead | null = null;
    if (!this.headSent && this.res._header) {
      this.headSent = true;
      head = [this.res.statusCode, this.res.statusMessage ?? '', this.res._header, this.res._last];
    }
    return [DATA, this.id, bytes, head, this.finished, this.finished ? responseBodyBytes(this.res) : 0, this.finished ? this.http2Trailers() : null];
  }

  /**
   * Over HTTP/2 the response is written as HTTP/1.0's, without chunked framing, so node leaves the trailers the
   * app added out of the bytes: they go to the main thread as lines, to be sent as the stream's trailers.
   */
  private http2Trailers(): string | null {
    return this.req.httpVersionMajor === 2 && this.res._trailer ? this.res._trailer : null;
  }

  private fail(error: unknown): void {
    if (this.done) return;
    this.out.fail(this.id, error instanceof Error ? (error.stack ?? error.message) : describeError(error));
    this.close();
    this.socket.destroy();
  }

  private finish(): void {
    if (this.done) return;
    this.finished = true;
    this.out.touch(this);
    this.close();
    const { req, res, socket } = this;
    // As node's server does once a response is done: a body the app never read is dropped.
    if (!req._consuming && !req.readableFlowing) {
      req._dump();
      // The main thread drops the rest of it too: what was sent ends here.
      if (!req.complete) req.push(null);
    }
    res.detachSocket(socket as never);
    process.nextTick(() => {
      if (res._closed) return;
      res.destroyed = true;
      res._closed = true;
      res.emit('close');
    });
  }

  private close(): void {
    this.done = true;
    this.held = undefined;
    this.out.closed(this);
  }

  /** Consumption so far, credited back in steps of ACK_EVERY_BYTES (see WINDOW_BYTES). */
  private creditConsumed(): void {
    if (this.done) return;
    const consumed = this.pushed - this.req.readableLength;
    if (consumed - this.credited < ACK_EVERY_BYTES) return;
    this.out.credit(this.id, consumed - this.credited);
    this.credited = consumed;
  }
}
