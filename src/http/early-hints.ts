// 103 Early Hints (RFC 8297): what an app may put in one, checked before any
// byte goes out, whatever the protocol that carries it. node's own
// writeEarlyHints checks only the Link value's shape and writes every other
// name and value as it is (a CR LF in one splits the response); corral refuses
// what gunicorn 26 refuses (a name that is not a token, a value with a control
// character) and the fields that would change how the client reads the
// connection: a 1xx carries no body, so no framing fields, and HTTP/2 forbids
// connection-specific ones (RFC 9110 §8.6, RFC 9112 §6.1, RFC 9113 §8.2.2).
import type { IncomingMessage } from 'node:http';
import { CorralError } from '../errors.js';

/** One field's value: a string (or number), or several, each sent as a field line of its own. */
export type EarlyHintValue = string | number | ReadonlyArray<string | number>;

/**
 * The fields of a 103: `{ link: '</style.css>; rel=preload; as=style' }` (a
 * value may be an array: one line each), or a Headers, or [name, value] pairs.
 * Names are case-insensitive; an undefined or null value is left out.
 */
export type EarlyHints = Readonly<Record<string, EarlyHintValue | undefined | null>> | Headers | Iterable<readonly [string, string]>;

/** RFC 9110 §5.6.2 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 §5.5: visible characters, obs-text, and SP/HTAB inside; no CR, LF, NUL or other control character. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const EDGE_WHITESPACE = /^[ \t]+|[ \t]+$/g;

/** Fields a 1xx must not carry: they say how the body is framed or how the connection goes on. */
const REFUSED = new Set(['connection', 'content-length', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const EXAMPLE = `{ link: '</style.css>; rel=preload; as=style' }`;

/** The app asked for a 103 corral will not send; thrown to it where it asked, nothing sent. */
export class InvalidEarlyHints extends CorralError {
  constructor(message: string) {
    super('CORRAL_ERR_INVALID_EARLY_HINTS', `Invalid early hints: ${message}`);
    this.name = 'InvalidEarlyHints';
  }
}

/** The final response's head is already written: a 103 after it would land inside that response. */
export class EarlyHintsTooLate extends CorralError {
  constructor(request: string) {
    super(
      'CORRAL_ERR_EARLY_HINTS_TOO_LATE',
      `Early hints for ${request} come after the response's head was written (writeHead(), write() or end()); send them before it, or drop them`,
    );
    this.name = 'EarlyHintsTooLate';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function addField(fields: string[], name: unknown, value: unknown): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new InvalidEarlyHints(`the field name ${describe(name)} is not an HTTP token (letters, digits and !#$%&'*+-.^_\`|~ only)`);
  }
  if (REFUSED.has(name.toLowerCase())) {
    throw new InvalidEarlyHints(`a 103 cannot carry ${name}: it frames a body or governs the connection, which only the final response does`);
  }
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') throw new InvalidEarlyHints(`the value of ${name} is ${describe(value)}; give a string, or an array of strings`);
  if (!FIELD_VALUE.test(value)) {
    throw new InvalidEarlyHints(`the value of ${name} has a character a field value cannot hold (CR, LF, NUL, another control character, or one beyond \\xff): ${JSON.stringify(value)}`);
  }
  fields.push(name, value.replace(EDGE_WHITESPACE, ''));
}

function addValue(fields: string[], name: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) for (const item of value) addField(fields, name, item);
  else addField(fields, name, value);
}

/**
 * The hints as flat [name, value, name, value …] field lines, in the order
 * given, each checked; throws InvalidEarlyHints at the first that is not
 * allowed. An empty list means there is nothing to send.
 */
export function earlyHintFields(hints: EarlyHints): string[] {
  if (typeof hints !== 'object' || hints === null) throw new InvalidEarlyHints(`expected an object such as ${EXAMPLE}, got ${describe(hints)}`);
  const fields: string[] = [];
  if (Symbol.iterator in hints) {
    for (const pair of hints as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new InvalidEarlyHints(`each entry must be a [name, value] pair, got ${describe(pair)}`);
      addValue(fields, pair[0], pair[1]);
    }
    return fields;
  }
  for (const name of Object.keys(hints)) addValue(fields, name, (hints as Record<string, unknown>)[name]);
  return fields;
}

/** 1xx responses go only to HTTP/1.1 clients and later: HTTP/1.0 (and 0.9) ones would take them for the answer (RFC 9110 §15.2). */
export function takesInterimResponses(req: IncomingMessage): boolean {
  return req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
}

/** The 103 as HTTP/1.1 bytes (latin1). */
export function http1EarlyHints(fields: readonly string[]): string {
  let head = 'HTTP/1.1 103 Early Hints\r\n';
  for (let index = 0; index < fields.length; index += 2) head += `${fields[index]}: ${fields[index + 1]}\r\n`;
  return `${head}\r\n`;
}
