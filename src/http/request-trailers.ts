// Trailer fields a client may not send as trailers (RFC 9110 §6.5.1): those
// that frame the message, route it, modify the request, authenticate it or
// describe its content. Read after the body, they would override what was
// checked before it (a Host, a Content-Length, an Authorization): they are
// dropped before the app can see them; the other trailers reach it unchanged.
import { IncomingMessage } from 'node:http';

const NOT_TRAILERS = new Set([
  // framing and connection
  'transfer-encoding', 'content-length', 'trailer', 'te', 'connection', 'keep-alive', 'proxy-connection', 'upgrade',
  // routing and request modifiers
  'host', 'expect', 'max-forwards', 'range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range',
  'cache-control', 'pragma',
  // authentication and state
  'authorization', 'proxy-authorization', 'cookie',
  // content description
  'content-type', 'content-encoding', 'content-range', 'content-location', 'content-language',
]);

type HeaderLines = (this: IncomingMessage, lines: string[], count: number) => void;
const addHeaderLines = (IncomingMessage.prototype as unknown as { _addHeaderLines: HeaderLines })._addHeaderLines;

/**
 * node's parser hands a message's trailer lines to `_addHeaderLines` once the body
 * is complete, which makes them `rawTrailers` (and `trailers`): this drops the
 * ones above there, before anything can read them.
 */
function addAllowedHeaderLines(this: IncomingMessage, lines: string[], count: number): void {
  if (this.complete && lines) {
    for (let index = lines.length - 2; index >= 0; index -= 2) {
      if (NOT_TRAILERS.has(lines[index].toLowerCase())) lines.splice(index, 2);
    }
    count = lines.length;
  }
  addHeaderLines.call(this, lines, count);
}

/** For a request with a chunked body (the only kind that can carry trailers). */
export function dropForbiddenTrailers(req: IncomingMessage): void {
  if (typeof addHeaderLines !== 'function') return;
  (req as unknown as { _addHeaderLines: HeaderLines })._addHeaderLines = addAllowedHeaderLines;
}
