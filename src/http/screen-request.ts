// The checks node's parser (llhttp, strict) leaves to the server, run on every
// parsed request before the app sees it: gunicorn's request limits, one Host,
// transfer codings corral can decode, the HTTP version, and header names with
// `_` (--header-map). Cheap on purpose: it runs on the hot path.
import type { IncomingMessage } from 'node:http';
import type { Settings } from '../config/schema.js';
import { BadRequest } from './bad-request.js';

export type RequestLimits = Pick<Settings, 'limitRequestLine' | 'limitRequestFields' | 'limitRequestFieldSize' | 'headerMap'>;

const HOST = 'host';
const TRANSFER_ENCODING = 'transfer-encoding';
const OWS = /^[ \t]+|[ \t]+$/g;

export type RequestScreen = (req: IncomingMessage) => BadRequest | undefined;

export function requestScreen({ limitRequestLine, limitRequestFields, limitRequestFieldSize, headerMap }: RequestLimits): RequestScreen {
  return (req) => {
    if (req.httpVersionMajor !== 1) {
      return new BadRequest(505, `HTTP/${req.httpVersion} is not supported; use HTTP/1.1`);
    }
    // Method, target, the version (8 bytes) and the two spaces between them.
    const lineLength = req.method!.length + req.url!.length + 10;
    if (limitRequestLine > 0 && lineLength > limitRequestLine) {
      return new BadRequest(414, `the request line is ${lineLength} bytes; the limit (--limit-request-line) is ${limitRequestLine}`);
    }
    const raw = req.rawHeaders;
    if (raw.length > limitRequestFields * 2) {
      return new BadRequest(431, `more than ${limitRequestFields} header fields (--limit-request-fields)`);
    }
    let hosts = 0;
    let underscores = false;
    for (let index = 0; index < raw.length; index += 2) {
      const name = raw[index];
      const size = name.length + raw[index + 1].length + 2;
      if (limitRequestFieldSize > 0 && size > limitRequestFieldSize) {
        return new BadRequest(431, `the ${name} header field is ${size} bytes; the limit (--limit-request-field_size) is ${limitRequestFieldSize}`);
      }
      if (name.length === 4 && name.toLowerCase() === HOST) hosts += 1;
      else if (name.length === 17 && name.toLowerCase() === TRANSFER_ENCODING) {
        const problem = transferCodingProblem(req, raw[index + 1]);
        if (problem) return problem;
      }
      if (name.includes('_')) underscores = true;
    }
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1; several are a classic cache-poisoning trick.
    if (hosts > 1) return new BadRequest(400, 'more than one Host header');
    if (hosts === 0 && req.httpVersionMinor >= 1) return new BadRequest(400, 'an HTTP/1.1 request needs a Host header');
    if (underscores) return underscoredHeaders(req, headerMap);
    return undefined;
  };
}

function transferCodingProblem(req: IncomingMessage, value: string): BadRequest | undefined {
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (req.httpVersionMinor === 0) return new BadRequest(400, 'Transfer-Encoding in an HTTP/1.0 request');
  // Only SP and HTAB are whitespace here: `\x85chunked\xa0` is not `chunked` (String#trim would say it is).
  const codings = value.split(',').map((coding) => coding.replace(OWS, '').toLowerCase());
  // RFC 9112 §6.3: without chunked last the body's end cannot be known.
  if (codings[codings.length - 1] !== 'chunked') return new BadRequest(400, `the final transfer coding is '${codings[codings.length - 1]}', not chunked`);
  const other = codings.find((coding) => coding !== 'chunked');
  if (other !== undefined) return new BadRequest(501, `the transfer coding '${other}' is not supported; only chunked is`);
  return undefined;
}

// A proxy that vets `X-Auth-User` may pass `X_Auth_User` through untouched; an app
// that treats the two alike (as CGI-style environments do) would then trust it.
function underscoredHeaders(req: IncomingMessage, headerMap: string): BadRequest | undefined {
  if (headerMap === 'dangerous') return undefined;
  const raw = req.rawHeaders;
  if (headerMap === 'refuse') {
    const name = raw.find((value, index) => index % 2 === 0 && value.includes('_'));
    return new BadRequest(400, `the header name ${name} contains '_' (--header-map refuse)`);
  }
  // drop: node builds req.headers from rawHeaders when first asked, so removing them here removes them everywhere.
  for (let index = raw.length - 2; index >= 0; index -= 2) {
    if (raw[index].includes('_')) raw.splice(index, 2);
  }
  return undefined;
}
