// The socket an app in a pool thread sees under req and res: the client's
// address, port and scheme as the main thread saw them (a trusted proxy's view
// included), and a writable side that hands what node's ServerResponse writes
// (head, framing, body, trailers) to the request's exchange, to be sent to the
// main thread. Nothing is read from it: the request body is pushed straight
// into the IncomingMessage.
import { Duplex } from 'node:stream';

export interface ResponseSink {
  /** Takes bytes; calls `done` when more may be written (at once, or once the client has taken enough). */
  collect(chunks: Uint8Array[], done: (error?: Error | null) => void): void;
  /** Takes a 103's checked fields (flat name/value pairs), to go ahead of the response's head. */
  hints(fields: string[]): void;
}

type Written = { chunk: Uint8Array };

export class ThreadSocket extends Duplex {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: string | undefined;
  /** Only present (true) over TLS, as on node's sockets. */
  encrypted?: true;
  /** For the Server header (see sendServerHeader), found through req.socket.server. */
  server: object | undefined;

  constructor(private readonly sink: ResponseSink) {
    super({ allowHalfOpen: true, decodeStrings: true });
  }

  override _read(): void {}

  /** A 103 the response asked for (see write-early-hints.ts): it is sent by the main thread, not as bytes from here. */
  earlyHints(fields: string[]): void {
    this.sink.hints(fields);
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sink.collect([chunk], callback);
  }

  override _writev(chunks: Written[], callback: (error?: Error | null) => void): void {
    this.sink.collect(
      chunks.map((written) => written.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  /** node's request destroys its socket with the reason it was aborted; nobody listens for that error here. */
  override destroy(_error?: Error): this {
    return super.destroy();
  }

  // What apps and frameworks call on a net.Socket; the real socket is the main thread's.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  address(): object {
    return {};
  }
}
