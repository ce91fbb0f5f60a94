// gunicorn's access-log format (`%(h)s %(l)s %(u)s %(t)s "%(r)s" ...`), compiled
// once into a function that renders one line: the format is split into literal
// text and one small getter per atom, so nothing is parsed per request.
import type { IncomingHttpHeaders } from 'node:http';
import { REQUEST_ID_HEADER } from '../http/request-id.js';

/** `%(request_id)s`: the X-Request-Id the client sent, or the one made for the request (and set on its response). */
export const REQUEST_ID_ATOM = 'request_id';

/** The parts of node's IncomingMessage the atoms read. */
export interface AccessLogRequest {
  method?: string;
  url?: string;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string };
}

/** The parts of node's ServerResponse the atoms read. */
export interface AccessLogResponse {
  statusCode: number;
  getHeader(name: string): number | string | readonly string[] | undefined;
  /** The header block as sent; holds headers passed straight to writeHead(), which getHeader() does not see. */
  readonly _header?: string | null;
}

export interface AccessLogEntry {
  req: AccessLogRequest;
  res: AccessLogResponse;
  /** Response body bytes sent. */
  bodyBytes: number;
  /** From the start of the request to its end. */
  durationNs: bigint;
  /** When the request finished, in ms since the epoch. */
  finishedAt: number;
}

export type AccessLogFormatter = ((entry: AccessLogEntry) => string) & {
  /** The atoms the format uses, e.g. ['h', 'b', '{x-test}i']; lets callers skip work no atom needs. */
  readonly atoms: readonly string[];
};

type Atom = (entry: AccessLogEntry) => string;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `[10/Oct/2000:13:55:36 -0700]` in local time, as gunicorn's `[%d/%b/%Y:%H:%M:%S %z]`. */
export function formatAccessTime(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const abs = Math.abs(offset);
  return (
    `[${pad(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ` +
    `${offset >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}]`
  );
}

/** gunicorn escapes double quotes in every value, so quoted fields stay one field. */
const escapeQuotes = (value: string) => (value.includes('"') ? value.replaceAll('"', '\\"') : value);

const needsEscape = (code: number) => code < 0x20 || code === 0x22 || code === 0x7f;

/** For values nothing has validated (a decoded user name, the environment): quotes, and control characters as \xHH. */
function escapeAll(value: string): string {
  let index = 0;
  while (index < value.length && !needsEscape(value.charCodeAt(index))) index += 1;
  if (index === value.length) return value;
  let escaped = value.slice(0, index);
  for (; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (!needsEscape(code)) escaped += value[index];
    else escaped += code === 0x22 ? '\\"' : `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return escaped;
}

const orDash = (value: string | undefined) => (value === undefined || value === '' ? '-' : escapeQuotes(value));

const headerText = (value: number | string | readonly string[] | undefined): string | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : typeof value === 'number' ? String(value) : value.join(', ');

/** The user name of a Basic `Authorization` header, as sent (undefined when there is none), as gunicorn's `_get_user`. */
export function basicAuthUserName(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.slice(0, 5).toLowerCase() !== 'basic') return undefined;
  const space = authorization.indexOf(' ');
  if (space === -1) return undefined;
  const decoded = Buffer.from(authorization.slice(space + 1).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  return user === '' ? undefined : user;
}

/** The user name for a text line: `-` when there is none, escaped so that it cannot forge a line. */
export function basicAuthUser(authorization: string | undefined): string {
  const user = basicAuthUserName(authorization);
  return user === undefined ? '-' : escapeAll(user);
}

/** A response header by name (lower case): from getHeader(), else from the header block as sent. */
function responseHeader(res: AccessLogResponse, name: string): string | undefined {
  const value = headerText(res.getHeader(name));
  if (value !== undefined) return value;
  const block = res._header;
  if (!block) return undefined;
  const start = block.toLowerCase().indexOf(`\r\n${name}:`);
  if (start === -1) return undefined;
  const valueStart = start + name.length + 3;
  return block.slice(valueStart, block.indexOf('\r\n', valueStart)).trim();
}

const durationUs = (entry: AccessLogEntry) => Number(entry.durationNs / 1000n);

/** Whole seconds' `%(t)s` text, kept for the second it belongs to: busy servers log many lines per second. */
function cachedAccessTime(): Atom {
  let second = Number.NaN;
  let text = '';
  return ({ finishedAt }) => {
    const now = Math.floor(finishedAt / 1000);
    if (now !== second) {
      second = now;
      text = formatAccessTime(new Date(now * 1000));
    }
    return text;
  };
}

function queryStart(url: string | undefined): number {
  return url === undefined ? -1 : url.indexOf('?');
}

const simpleAtoms: Record<string, () => Atom> = {
  h: () => ({ req }) => req.socket.remoteAddress ?? '-',
  l: () => () => '-',
  u: () => ({ req }) => basicAuthUser(req.headers.authorization),
  t: cachedAccessTime,
  // Only the target can hold a quote; the method and version are tokens the parser checked.
  r: () => ({ req }) => `${req.method} ${escapeQuotes(req.url ?? '')} HTTP/${req.httpVersion}`,
  m: () => ({ req }) => orDash(req.method),
  U: () => ({ req }) => {
    const at = queryStart(req.url);
    return orDash(at === -1 ? req.url : req.url!.slice(0, at));
  },
  q: () => ({ req }) => {
    const at = queryStart(req.url);
    return at === -1 ? '-' : orDash(req.url!.slice(at + 1));
  },
  H: () => ({ req }) => `HTTP/${req.httpVersion}`,
  s: () => ({ res }) => String(res.statusCode),
  B: () => ({ bodyBytes }) => String(bodyBytes),
  b: () => ({ bodyBytes }) => (bodyBytes === 0 ? '-' : String(bodyBytes)),
  f: () => ({ req }) => orDash(req.headers.referer),
  a: () => ({ req }) => orDash(req.headers['user-agent']),
  T: () => ({ durationNs }) => String(durationNs / 1_000_000_000n),
  D: () => (entry) => String(durationUs(entry)),
  M: () => ({ durationNs }) => String(durationNs / 1_000_000n),
  L: () => (entry) => {
    const us = durationUs(entry);
    return `${Math.floor(us / 1_000_000)}.${pad(us % 1_000_000, 6)}`;
  },
  p: () => {
    const pid = `<${process.pid}>`;
    return () => pid;
  },
  // The access log assigns it when the format uses it (src/http/request-id.ts): always there, and safe to print.
  [REQUEST_ID_ATOM]: () => ({ req }) => orDash(headerText(req.headers[REQUEST_ID_HEADER])),
};
/** A Map, so names such as `constructor` are not found on Object's prototype. */
const simpleAtomByName = new Map(Object.entries(simpleAtoms));

/** `{name}i` request header, `{name}o` response header, `{NAME}e` environment variable. */
function braceAtom(atom: string): Atom | undefined {
  const match = /^\{([^}]*)\}([ioe])$/.exec(atom);
  if (!match) return undefined;
  const [, name, source] = match;
  if (source === 'e') {
    // gunicorn matches environment names without regard to case; the usual spelling is upper case.
    const upper = name.toUpperCase();
    return () => {
      const value = process.env[name] ?? process.env[upper];
      return value === undefined || value === '' ? '-' : escapeAll(value);
    };
  }
  const lower = name.toLowerCase();
  if (source === 'i') return ({ req }) => orDash(headerText(req.headers[lower]));
  return ({ res }) => orDash(responseHeader(res, lower));
}

/** Unknown atoms print `-`, as gunicorn's safe dict does. */
const unknownAtom: Atom = () => '-';

function atomFor(atom: string): Atom {
  return simpleAtomByName.get(atom)?.() ?? braceAtom(atom) ?? unknownAtom;
}

/**
 * Compiles `format` (Python %-style: `%(atom)s`, `%%` for a percent sign) into
 * a function from a finished request to its log line (without the newline).
 */
export function compileAccessLogFormat(format: string): AccessLogFormatter {
  const literals: string[] = [];
  const getters: Atom[] = [];
  const atoms: string[] = [];
  let literal = '';
  const token = /%\(([^)]*)\)s|%%/g;
  let last = 0;
  for (let match = token.exec(format); match; match = token.exec(format)) {
    literal += format.slice(last, match.index);
    last = token.lastIndex;
    if (match[0] === '%%') {
      literal += '%';
      continue;
    }
    literals.push(literal);
    literal = '';
    atoms.push(match[1]);
    getters.push(atomFor(match[1]));
  }
  literals.push(literal + format.slice(last));

  const head = literals[0];
  const count = getters.length;
  const render = (entry: AccessLogEntry) => {
    let line = head;
    for (let index = 0; index < count; index += 1) line += getters[index](entry) + literals[index + 1];
    return line;
  };
  return Object.assign(render, { atoms: Object.freeze(atoms) });
}
