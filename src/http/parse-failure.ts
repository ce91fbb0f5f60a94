// What a request node's parser refused gets back. llhttp (strict; corral never
// turns on insecureHTTPParser) reports why it stopped; this maps that to the
// status RFC 9110/9112 asks for.
import { BadRequest } from './bad-request.js';

interface ParserError extends Error {
  code?: string;
  reason?: string;
  rawPacket?: Buffer;
  bytesParsed?: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseFailure(error: ParserError): BadRequest {
  const reason = (error.reason ?? error.message).replace(/\.$/, '');
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new BadRequest(431, 'the request head is larger than the limits allow (--limit-request-fields × --limit-request-field_size)');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new BadRequest(408, 'the request head did not arrive within --header-timeout');
    case 'HPE_INVALID_METHOD': {
      // llhttp knows the registered methods only; a well-formed method it does not know is 501, not 400 (RFC 9110 §9.1).
      const method = methodAt(error);
      return method !== undefined && TOKEN.test(method)
        ? new BadRequest(501, `the method ${method} is not implemented`)
        : new BadRequest(400, 'invalid method');
    }
    default:
      return new BadRequest(400, reason);
  }
}

/** The method of the request the parser stopped in: the start of the line the error is on. */
function methodAt({ rawPacket, bytesParsed }: ParserError): string | undefined {
  if (!rawPacket || bytesParsed === undefined) return undefined;
  const start = rawPacket.lastIndexOf(0x0a, Math.max(0, bytesParsed - 1)) + 1;
  const end = rawPacket.indexOf(0x20, start);
  if (end < 0) return undefined;
  return rawPacket.toString('latin1', start, end);
}
