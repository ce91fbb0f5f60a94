// The HTTP/1.1 request screen (screen-request.ts) translated for an HTTP/2
// stream: nghttp2 has already refused what HTTP/2 itself forbids (upper-case
// or connection-specific fields, bad pseudo-headers, Transfer-Encoding), and
// the header list is bounded by --http2-max-header-list-size. What is left is
// gunicorn's limits per request — the request line as method and :path, the
// field count and each field's size, pseudo-headers not counted — one valid
// authority, and `_` in names (--header-map). A request that passes gets the
// headers an HTTP/1.1 app reads, as a gateway to HTTP/1.1 would make them: Host
// from :authority (RFC 9113 §8.3.1), Transfer-Encoding: chunked for a body
// without Content-Length.
import type { Http2ServerRequest } from 'node:http2';
import type { Settings } from '../config/schema.js';
import { BadRequest } from './bad-request.js';
import { isValidHost } from './screen-request.js';

export type Http2RequestScreen = (req: Http2ServerRequest) => BadRequest | undefined;

const COLON = 0x3a;

export function http2RequestScreen({ limitRequestLine, limitRequestFields, limitRequestFieldSize, headerMap }: Pick<Settings, 'limitRequestLine' | 'limitRequestFields' | 'limitRequestFieldSize' | 'headerMap'>): Http2RequestScreen {
  return (req) => {
    const method = req.method;
    const target = req.url;
    // As HTTP/1.1 would write it: method, target, `HTTP/2.0` and two spaces.
    const lineLength = method.length + target.length + 10;
    if (limitRequestLine > 0 && lineLength > limitRequestLine) {
      return new BadRequest(414, `the request line (method and :path) is ${lineLength} bytes; the limit (--limit-request-line) is ${limitRequestLine}`);
    }
    if (method === 'CONNECT') return new BadRequest(501, 'CONNECT is not supported: this is not a forward proxy');
    const raw = req.rawHeaders;
    let fields = 0;
    let host: string | undefined;
    let underscores = false;
    for (let index = 0; index < raw.length; index += 2) {
      const name = raw[index];
      if (name.charCodeAt(0) === COLON) continue;
      fields += 1;
      const value = raw[index + 1];
      const size = name.length + value.length + 2;
      if (limitRequestFieldSize > 0 && size > limitRequestFieldSize) {
        return new BadRequest(431, `the ${name} header field is ${size} bytes; the limit (--limit-request-field_size) is ${limitRequestFieldSize}`);
      }
      if (name === 'host') {
        if (host !== undefined) return new BadRequest(400, 'more than one Host header');
        host = value;
      }
      if (name.includes('_')) underscores = true;
    }
    if (fields > limitRequestFields) return new BadRequest(431, `more than ${limitRequestFields} header fields (--limit-request-fields)`);
    const authority = req.headers[':authority'] as string | undefined;
    if (authority !== undefined && !isValidHost(authority)) return new BadRequest(400, `the :authority ${JSON.stringify(authority)} is not a valid host[:port]`);
    if (host !== undefined) {
      if (!isValidHost(host)) return new BadRequest(400, `the Host header ${JSON.stringify(host)} is not a valid host[:port]`);
      // RFC 9113 §8.3.1: a Host naming another origin than :authority makes a malformed request.
      if (authority !== undefined && host.toLowerCase() !== authority.toLowerCase()) return new BadRequest(400, 'the Host header and :authority differ');
    } else if (authority !== undefined) {
      raw.push('host', authority);
      req.headers.host = authority;
    }
    // A body framed by DATA frames alone (RFC 9113 §8.1): as an HTTP/1.1 gateway relays it, chunked, so that an
    // app that looks for Content-Length or Transfer-Encoding to know there is a body (body-parser) finds one.
    if (!req.stream.endAfterHeaders && req.headers['content-length'] === undefined) {
      raw.push('transfer-encoding', 'chunked');
      req.headers['transfer-encoding'] = 'chunked';
    }
    if (underscores) return underscoredFields(req, headerMap);
    return undefined;
  };
}

/** As for HTTP/1.1 (screen-request.ts); HTTP/2's header object is built up front, so a dropped field goes from both views. */
function underscoredFields(req: Http2ServerRequest, headerMap: string): BadRequest | undefined {
  if (headerMap === 'dangerous') return undefined;
  const raw = req.rawHeaders;
  if (headerMap === 'refuse') {
    const name = raw.find((value, index) => index % 2 === 0 && value.includes('_'));
    return new BadRequest(400, `the header name ${name} contains '_' (--header-map refuse)`);
  }
  for (let index = raw.length - 2; index >= 0; index -= 2) {
    if (raw[index].includes('_')) {
      delete req.headers[raw[index]];
      raw.splice(index, 2);
    }
  }
  return undefined;
}
