// A pool thread writes an HTTP/2 request's response as node writes an HTTP/1.0
// one (no chunked framing; thread-response-http2.ts), and node refuses a
// `Trailer` field on a response without chunked framing
// (ERR_HTTP_TRAILER_INVALID): HTTP/1.0 has nowhere to put trailers. HTTP/2
// frames trailers itself, and the async kind's app may declare them there; so
// for such a response the head is stored without the field, which is then put
// back into it, as it was given.
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

/** Lets `res` (an HTTP/2 request's, in a pool thread) declare its trailers with a `Trailer` field, as over HTTP/2 it may. */
export function allowTrailerField(res: ServerResponse): void {
  const storing = res as StoringResponse;
  const storeHeaderOfNode = storing._storeHeader;
  storing._storeHeader = function storeHeader(this: StoringResponse, firstLine: string, headers: Headers) {
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
  };
}
