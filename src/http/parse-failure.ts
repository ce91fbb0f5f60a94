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

/** method SP target SP version, each well-formed (RFC 9112 §3). */
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) [!-~]+ HTTP\/\d\.\d$/;

export function parseFailure(error: ParserError): BadRequest {
  const reason = (error.reason ?? error.message).replace(/\.$/, '');
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new BadRequest(431, 'the request head is larger than the limits allow (--limit-request-fields × --limit-request-field_size)');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new BadRequest(408, 'the request head did not arrive within --header-timeout');
    case 'HPE_INVALID_METHOD': {
      // llhttp knows the registered methods only: a well-formed request with a method it does not know is 501, not 400 (RFC 9110 §9.1).
      const line = lineAt(error);
      const method = line === undefined ? undefined : REQUEST_LINE.exec(line)?.[1];
      return method !== undefined ? new BadRequest(501, `the method ${method} is not implemented`) : new BadRequest(400, 'invalid method or request line');
    }
    case 'HPE_INVALID_VERSION': {
      // A well-formed version this server does not speak (HTTP/3.0 on an HTTP/1 connection) is 505.
      const major = lineAt(error)?.match(/ HTTP\/(\d)\.\d$/)?.[1];
      return major !== undefined && Number(major) >= 2 ? new BadRequest(505, `HTTP/${major} is not supported; use HTTP/1.1`) : new BadRequest(400, reason);
    }
    default:
      return new BadRequest(400, reason);
  }
}

/** The line the parser stopped in, without its CRLF; undefined when it has not ended in this packet. */
function lineAt({ rawPacket, bytesParsed }: ParserError): string | undefined {
  if (!rawPacket || bytesParsed === undefined) return undefined;
  const start = rawPacket.lastIndexOf(0x0a, Math.max(0, bytesParsed - 1)) + 1;
  const end = rawPacket.indexOf(0x0a, start);
  if (end < 0) return undefined;
  return rawPacket.toString('latin1', start, rawPacket[end - 1] === 0x0d ? end - 1 : end);
}
