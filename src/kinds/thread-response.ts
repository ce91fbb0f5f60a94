// Writes a response a pool thread produced onto the real one. The thread's
// ServerResponse already made every decision node's server makes (status line,
// Date, Keep-Alive, chunked framing, trailers, HEAD): its bytes go to the client
// as they are, through the response's own raw write, so pipelined responses keep
// their order. The real response is told what the head said (status, header
// block, whether the connection ends), so node's server, the access log and the
// metrics see it as if it had been written here.
import type { ServerResponse } from 'node:http';
import type { ResponseHead } from './thread-messages.js';
import { endHttp2Response, isHttp2Response, takeHttp2Head, writeHttp2Bytes } from './thread-response-http2.js';

type RawResponse = ServerResponse & {
  _header: string | null;
  _headerSent: boolean;
  _last: boolean;
  _writeRaw(data: Buffer, encoding: undefined, callback?: () => void): boolean;
};

export function takeHead(res: ServerResponse, head: ResponseHead): void {
  if (isHttp2Response(res)) return takeHttp2Head(res, head);
  const [statusCode, statusMessage, header, last] = head;
  const raw = res as RawResponse;
  raw.statusCode = statusCode;
  raw.statusMessage = statusMessage;
  raw._header = header;
  // The head is inside the bytes that follow: node must not write one of its own.
  raw._headerSent = true;
  raw._last = last;
  raw.shouldKeepAlive = !last;
}

export function writeBytes(res: ServerResponse, bytes: Uint8Array, written?: () => void): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // HTTP/2: the body's bytes as they are (see thread-response-http2.ts), as DATA frames.
  if (isHttp2Response(res)) return writeHttp2Bytes(res, buffer, written);
  (res as RawResponse)._writeRaw(buffer, undefined, written);
}

/** The response is complete: node's server moves on to the next request on the connection (or closes it, when `last`). */
export function endResponse(res: ServerResponse): void {
  if (isHttp2Response(res)) return endHttp2Response(res);
  res.end();
}
