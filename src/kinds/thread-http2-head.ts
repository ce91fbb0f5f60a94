// A pool thread writes an HTTP/2 request's response as node writes an HTTP/1.0
// one (thread-response-http2.ts): a head, then the body's bytes as they are,
// which become the stream's DATA frames. Two of node's HTTP/1.x rules do not
// hold there, HTTP/2 framing the body and its trailers itself:
//  - a `Trailer` field without chunked framing is refused
//    (ERR_HTTP_TRAILER_INVALID: HTTP/1.0 has nowhere to put trailers), where
//    the async kind's app may declare its trailers;
//  - a `Transfer-Encoding: chunked` the app set makes node frame the body in
//    chunks, whose framing would reach the client as body bytes (the field
//    itself is left out of the HTTP/2 head, as every connection-specific one).
// So such a response's head is stored without the `Trailer` field, which is
// then put back into it as it was given, and its body is never chunked.
import { type ServerResponse, validateHeaderValue } from 'node:http';

type Headers = Record<string, unknown> | unknown[] | null | undefined;
type StoringResponse = ServerResponse & {
  _header: string | null;
  _storeHeader(firstLine: string, headers: Headers): void;
};

const isTrailerField = (name: unknown) => typeof name === 'string' && name.length === 7 && name.toLowerCase() === 'trailer';

/** node's own map of the headers set with setHeader (its `kOutHeaders`), which _storeHeader reads in its own format. */
function outHeadersOf(res: ServerResponse): Headers {
  const symbol = Object.getOwnPropertySymbols(res).find((each) => each.description === 'kOutHeaders');
  return symbol ? (res as unknown as Record<symbol, Headers>)[symbol] : undefined;
}

/** The `Trailer` lines of `headers` (any shape writeHead hands _storeHeader), and the headers without them. */
function splitTrailerField(headers: Headers): { rest: Headers; lines: string[] } {
  const lines: string[] = [];
  const take = (name: string, value: unknown) => {
    for (const each of Array.isArray(value) ? value : [value]) {
      validateHeaderValue(name, each);
      lines.push(`${name}: ${String(each)}`);
    }
  };
  if (Array.isArray(headers)) {
    if (Array.isArray(headers[0])) {
      const rest = (headers as [unknown, unknown][]).filter(([name, value]) => !(isTrailerField(name) && (take(name as string, value), true)));
      return { rest, lines };
    }
    const rest: unknown[] = [];
    for (let index = 0; index < headers.length; index += 2) {
      if (isTrailerField(headers[index])) take(headers[index] as string, headers[index + 1]);
      else rest.push(headers[index], headers[index + 1]);
    }
    return { rest, lines };
  }
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (isTrailerField(key)) take(key, value);
    else rest[key] = value;
  }
  return { rest, lines };
}

/** Stores the head of `res` (an HTTP/2 request's, in a pool thread) under HTTP/2's rules rather than HTTP/1.0's. */
export function storeHeadForHttp2(res: ServerResponse): void {
  const storing = res as StoringResponse;
  const storeHeaderOfNode = storing._storeHeader;
  storing._storeHeader = function storeHeader(this: StoringResponse, firstLine: string, headers: Headers) {
    storeWithTrailerField.call(this, storeHeaderOfNode, firstLine, headers);
    this.chunkedEncoding = false;
  };
}

/** node's _storeHeader, past its refusal of a `Trailer` field without chunked framing. */
function storeWithTrailerField(this: StoringResponse, storeHeaderOfNode: StoringResponse['_storeHeader'], firstLine: string, headers: Headers): void {
  try {
    return storeHeaderOfNode.call(this, firstLine, headers);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_HTTP_TRAILER_INVALID') throw error;
  }
  let lines: string[];
  const own = outHeadersOf(this) as Record<string, [string, unknown]> | undefined;
  if (own && headers === own) {
    // node's own map ({ lower-case name: [name, value] }, checked by setHeader), which _storeHeader reads in its
    // own format: the field leaves it while the head is stored, and is back for getHeader afterwards.
    const entry = own.trailer;
    delete own.trailer;
    try {
      storeHeaderOfNode.call(this, firstLine, own);
    } finally {
      own.trailer = entry;
    }
    const [name, value] = entry;
    lines = (Array.isArray(value) ? value : [value]).map((each) => `${name}: ${String(each)}`);
  } else {
    const split = splitTrailerField(headers);
    storeHeaderOfNode.call(this, firstLine, split.rest);
    lines = split.lines;
  }
  this._header = `${this._header!.slice(0, -2)}${lines.map((line) => `${line}\r\n`).join('')}\r\n`;
}
