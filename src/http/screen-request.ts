// The checks node's parser (llhttp, strict) leaves to the server, run on every
// parsed request before the app sees it: gunicorn's request limits, the target's
// form, one valid Host, one Content-Type, transfer codings corral can decode, the
// HTTP version, and header names with `_` (--header-map). Cheap on purpose: it
// runs on the hot path, so it is one pass over the fields, with no allocation
// for a request that passes (names are compared without lowercasing them).
import type { IncomingMessage } from 'node:http';
import type { Settings } from '../config/schema.js';
import { BadRequest } from './bad-request.js';

export type RequestLimits = Pick<Settings, 'limitRequestLine' | 'limitRequestFields' | 'limitRequestFieldSize' | 'headerMap'>;

/** What the screen noticed about a request it let through, as bit flags. */
export const HAS_TRANSFER_CODING = 1;
export const ASKS_TO_UPGRADE = 2;

/** A BadRequest to answer with, or the flags of a request that passed (0: nothing of note). */
export type RequestScreen = (req: IncomingMessage) => BadRequest | number;

const OWS = /^[ \t]+|[ \t]+$/g;
const SLASH = 0x2f;
/** An IP literal host (RFC 3986 §3.2.2) with an optional port; the rare case, left to a regular expression. */
const IP_LITERAL_HOST = /^\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[\w\-.~!$&'()*+,;=:]+)\](?::[0-9]*)?$/;
/** unreserved and sub-delims (RFC 3986 §2.2, §2.3): the bytes of a reg-name, with `%XX`. */
const REG_NAME_CHAR = new Uint8Array(128);
for (const char of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=") REG_NAME_CHAR[char.charCodeAt(0)] = 1;
const COLON = 0x3a;
const PERCENT = 0x25;
const LEFT_BRACKET = 0x5b;
/** absolute-form for the schemes this server speaks: the authority, then the rest (llhttp has checked its characters). */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)/i;

export function requestScreen({ limitRequestLine, limitRequestFields, limitRequestFieldSize, headerMap }: RequestLimits): RequestScreen {
  return (req) => {
    if (req.httpVersionMajor !== 1) {
      return new BadRequest(505, `HTTP/${req.httpVersion} is not supported; use HTTP/1.1`);
    }
    const target = req.url!;
    // Method, target, the version (8 bytes) and the two spaces between them.
    const lineLength = req.method!.length + target.length + 10;
    if (limitRequestLine > 0 && lineLength > limitRequestLine) {
      return new BadRequest(414, `the request line is ${lineLength} bytes; the limit (--limit-request-line) is ${limitRequestLine}`);
    }
    // origin-form (the usual `/path?query`) needs nothing more than llhttp's checks.
    if (target.charCodeAt(0) !== SLASH) {
      const problem = targetProblem(req.method!, target);
      if (problem) return problem;
    }
    const raw = req.rawHeaders;
    if (raw.length > limitRequestFields * 2) {
      return new BadRequest(431, `more than ${limitRequestFields} header fields (--limit-request-fields)`);
    }
    let hosts = 0;
    let contentTypes = 0;
    let codings: string | undefined;
    let flags = 0;
    let underscores = false;
    for (let index = 0; index < raw.length; index += 2) {
      const name = raw[index];
      const value = raw[index + 1];
      const size = name.length + value.length + 2;
      if (limitRequestFieldSize > 0 && size > limitRequestFieldSize) {
        return new BadRequest(431, `the ${name} header field is ${size} bytes; the limit (--limit-request-field_size) is ${limitRequestFieldSize}`);
      }
      switch (name.length) {
        case 4:
          if (isNamed(name, 'host')) {
            hosts += 1;
            // RFC 9112 §3.2. Empty is valid only for a target URI without an authority, and an http(s) one always has one (RFC 9110 §4.2.1, §7.2).
            if (!isValidHost(value)) return new BadRequest(400, `the Host header ${JSON.stringify(value)} is not a valid host[:port]`);
          }
          break;
        case 7:
          if (isNamed(name, 'upgrade')) flags |= ASKS_TO_UPGRADE;
          break;
        case 12:
          if (isNamed(name, 'content-type')) contentTypes += 1;
          break;
        case 17:
          // Several lines are one list (RFC 9110 §5.3): judged together below, never line by line.
          if (isNamed(name, 'transfer-encoding')) codings = codings === undefined ? value : `${codings},${value}`;
          break;
      }
      if (name.includes('_')) underscores = true;
    }
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1; several are a classic cache-poisoning trick.
    if (hosts > 1) return new BadRequest(400, 'more than one Host header');
    if (hosts === 0 && req.httpVersionMinor >= 1) return new BadRequest(400, 'an HTTP/1.1 request needs a Host header');
    // Content-Type is a singleton (RFC 9110 §8.3): two lines leave the app to guess which one a proxy went by.
    if (contentTypes > 1) return new BadRequest(400, 'more than one Content-Type header');
    if (codings !== undefined) {
      const problem = transferCodingProblem(req, codings);
      if (problem) return problem;
      flags |= HAS_TRANSFER_CODING;
    }
    if (underscores) {
      const problem = underscoredHeaders(req, headerMap);
      if (problem) return problem;
    }
    return flags;
  };
}

/** `name` is `lower` in any case; `lower` is lowercase ASCII of the same length. */
function isNamed(name: string, lower: string): boolean {
  for (let index = 0; index < lower.length; index += 1) {
    // ASCII letters differ from their lowercase by 0x20; `-` has that bit already (only CR, never in a name, would pass for it).
    if ((name.charCodeAt(index) | 0x20) !== lower.charCodeAt(index)) return false;
  }
  return true;
}

/**
 * uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2): an IP literal, or a
 * non-empty reg-name. No `/ ? # @` and no whitespace: a Host that cannot smuggle
 * a path, a query or a userinfo into the URL an app builds from it. A loop, not
 * a regular expression: it runs for every request.
 */
export function isValidHost(value: string): boolean {
  const length = value.length;
  if (length === 0) return false;
  if (value.charCodeAt(0) === LEFT_BRACKET) return IP_LITERAL_HOST.test(value);
  let index = 0;
  for (; index < length; index += 1) {
    const code = value.charCodeAt(index);
    if (code === COLON) break;
    if (code === PERCENT) {
      if (!isHex(value.charCodeAt(index + 1)) || !isHex(value.charCodeAt(index + 2))) return false;
      index += 2;
    } else if (code >= 128 || REG_NAME_CHAR[code] === 0) return false;
  }
  if (index === 0) return false;
  // The port: digits only, possibly none (`host:` is allowed).
  for (index += 1; index < length; index += 1) {
    const code = value.charCodeAt(index);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x66);
}

/** A target not in origin form: `*` for OPTIONS, or an http(s) absolute form with a valid authority (RFC 9112 §3.2). */
function targetProblem(method: string, target: string): BadRequest | undefined {
  if (target === '*') {
    return method === 'OPTIONS' ? undefined : new BadRequest(400, `the asterisk form (*) is for OPTIONS only, not ${method}`);
  }
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute === null) {
    return new BadRequest(400, `the request target ${JSON.stringify(target)} is neither a path, an http(s) URL, nor * (OPTIONS)`);
  }
  // RFC 9110 §4.2.4: a userinfo (`user@`) in an http(s) target is an error.
  if (!isValidHost(absolute[1])) return new BadRequest(400, `the request target ${JSON.stringify(target)} has no valid host[:port]`);
  return undefined;
}

function transferCodingProblem(req: IncomingMessage, value: string): BadRequest | undefined {
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (req.httpVersionMinor === 0) return new BadRequest(400, 'Transfer-Encoding in an HTTP/1.0 request');
  // Only SP and HTAB are whitespace here: `\x85chunked\xa0` is not `chunked` (String#trim would say it is).
  const codings = value.split(',').map((coding) => coding.replace(OWS, '').toLowerCase());
  const last = codings.length - 1;
  // RFC 9112 §6.3: without chunked last the body's end cannot be known; §6.1: chunked is applied once.
  if (codings[last] !== 'chunked') return new BadRequest(400, `the final transfer coding is '${codings[last]}', not chunked`);
  if (codings.indexOf('chunked') !== last) return new BadRequest(400, 'the chunked transfer coding is applied more than once');
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
