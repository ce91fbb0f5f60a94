// node's HTTP server reads a plain connection in C++ (its parser consumes the socket), past any JS:
// that is much of its speed. But llhttp refuses the BWS that RFC 9112 §7.1.1 allows in chunk
// extensions, and only a HeaderUnfolder, in JS, can drop it. So a connection is read in C++ until its
// first request with a Transfer-Encoding: the parser is paused right after that head (its
// headers-complete callback answers HPE_PAUSED, a pause llhttp resumes where it stopped), the
// connection is switched to reading through JS with an unfolder placed at the start of that body,
// and the rest of the read the parser had is handed to the unfolder first. Connections that never
// send a chunked body never pay for JS reading.
//
// This leans on node's parser object (consume/unconsume, getCurrentBuffer, the numbered callbacks),
// which is not public API: when it does not look as expected, `unfoldFromFirstChunked` says so and
// the caller reads the whole connection through JS instead.
import type { Socket } from 'node:net';
import { unfoldIncoming } from './permit-folding.js';
import type { HeaderUnfolder } from './unfold-headers.js';

/** llhttp's errno for "paused": returned from on_headers_complete, it stops the parser after the head. */
const HPE_PAUSED = 21;
const WATCH = Symbol('corral.unfoldFromFirstChunked');
/** The after-read callback put in front of node's for the parser's current connection. */
const ON_EXECUTE_SWITCHING = Symbol('corral.onExecuteSwitching');

interface Watch {
  /** Paused by us after a head with a Transfer-Encoding, not yet switched. */
  paused: boolean;
  /** Whether that head's last coding is chunked (else llhttp refuses it, and the unfolder stays out of the way). */
  chunked: boolean;
  switched: boolean;
}

interface ParseError extends Error {
  code?: string;
  bytesParsed?: number;
}

type Callback = (...args: unknown[]) => unknown;

/** What this module uses of node's HTTPParser (lib/_http_server.js and src/node_http_parser.cc). */
interface NodeParser {
  [callback: number]: unknown;
  [ON_EXECUTE_SWITCHING]?: Callback;
  _consumed?: boolean;
  socket?: (Socket & { [WATCH]?: Watch }) | null;
  incoming?: { rawHeaders?: string[] } | null;
  execute(data: Buffer): unknown;
  resume(): void;
  unconsume(): void;
  getCurrentBuffer(): Buffer;
  constructor: { kOnHeadersComplete?: unknown; kOnExecute?: unknown; prototype: { execute?: unknown } };
}

const wrappedParsers = new WeakSet<object>();

/**
 * Arranges the switch on a socket node's HTTP server has just taken; false when node's parser is not as
 * expected (then read the connection through JS from the start).
 */
export function unfoldFromFirstChunked(socket: Socket): boolean {
  const parser = (socket as Socket & { parser?: NodeParser }).parser;
  const kOnHeadersComplete = parser?.constructor.kOnHeadersComplete;
  const kOnExecute = parser?.constructor.kOnExecute;
  if (
    !parser ||
    parser.socket !== socket ||
    typeof kOnHeadersComplete !== 'number' ||
    typeof kOnExecute !== 'number' ||
    typeof parser[kOnHeadersComplete] !== 'function' ||
    typeof parser.constructor.prototype.execute !== 'function' ||
    typeof parser.resume !== 'function' ||
    typeof parser.unconsume !== 'function' ||
    typeof parser.getCurrentBuffer !== 'function'
  ) {
    return false;
  }
  wrapParserOnce(parser, kOnHeadersComplete);
  // node assigns kOnExecute for each connection whose reads its parser consumes in C++ (and null when it frees the
  // parser), and C++ looks it up after every read: put in front of it here, for this connection, as a plain value.
  // One closure a connection, none a read.
  const onExecute = parser[kOnExecute];
  if (typeof onExecute === 'function' && onExecute !== parser[ON_EXECUTE_SWITCHING]) {
    const onExecuteSwitching = (ret: unknown) => {
      const watched = parser.socket;
      const watch = watched?.[WATCH];
      return (onExecute as Callback)(watch && watched ? switchIfPaused(watched, parser, watch, ret) : ret);
    };
    parser[ON_EXECUTE_SWITCHING] = onExecuteSwitching;
    parser[kOnExecute] = onExecuteSwitching;
  }
  (socket as Socket & { [WATCH]?: Watch })[WATCH] = { paused: false, chunked: false, switched: false };
  return true;
}

/**
 * Once per parser object (node pools them and keeps this callback): the headers-complete pause, and the
 * check after each read executed from JS (reads consumed in C++ are checked by the connection's onExecuteSwitching).
 */
function wrapParserOnce(parser: NodeParser, kOnHeadersComplete: number): void {
  if (wrappedParsers.has(parser)) return;
  wrappedParsers.add(parser);
  const headersComplete = parser[kOnHeadersComplete] as Callback;
  // `arguments` passed on as they are (no rest array): this runs for every request.
  parser[kOnHeadersComplete] = function pauseAfterTransferEncoding(this: NodeParser) {
    const result = headersComplete.apply(this, arguments as unknown as unknown[]);
    const watch = this.socket?.[WATCH];
    if (result !== 0 || !watch || watch.switched || watch.paused) return result;
    const codings = transferCodings(this.incoming?.rawHeaders);
    if (codings === null) return result;
    watch.paused = true;
    watch.chunked = codings[codings.length - 1] === 'chunked';
    return HPE_PAUSED;
  };
  // The first read of a connection (put back by the connection preface) is executed from JS, not consumed.
  const execute = parser.constructor.prototype.execute as (this: NodeParser, data: Buffer) => unknown;
  parser.execute = function executeSwitching(this: NodeParser, data: Buffer) {
    const ret = execute.call(this, data);
    const socket = this.socket;
    const watch = socket?.[WATCH];
    return watch && socket ? switchIfPaused(socket, this, watch, ret, data) : ret;
  };
}

/**
 * After an execute: when it stopped at our pause, resumes the parser, moves the connection to JS
 * reading through an unfolder, queues the rest of the read for it, and returns what node expects of a
 * read that went well (the bytes parsed); otherwise returns `ret` as it was.
 */
function switchIfPaused(socket: Socket, parser: NodeParser, watch: Watch, ret: unknown, executed?: Buffer): unknown {
  if (!watch.paused || !(ret instanceof Error) || (ret as ParseError).code !== 'HPE_PAUSED') return ret;
  const bytesParsed = (ret as ParseError).bytesParsed ?? 0;
  // The read: what JS executed, or (consumed in C++) the parser's current buffer, readable only inside its callback.
  const rest = (executed ?? parser.getCurrentBuffer()).subarray(bytesParsed);
  watch.paused = false;
  watch.switched = true;
  parser.resume();
  const unfolder: HeaderUnfolder = unfoldIncoming(socket, false);
  unfolder.continueBody(watch.chunked);
  // Held until this read's callbacks are over: the rest goes to the parser first, then whatever is read next.
  socket.pause();
  if (parser._consumed) {
    parser.unconsume();
    parser._consumed = false;
  }
  const unfolded = unfolder.push(rest);
  if (unfolded.length > 0) socket.unshift(unfolded);
  setImmediate(() => socket.resume());
  return bytesParsed;
}

/** The codings of every Transfer-Encoding line, lower-cased; null when there is none. */
function transferCodings(rawHeaders: string[] | undefined): string[] | null {
  if (!rawHeaders) return null;
  let codings: string[] | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 17 || name.toLowerCase() !== 'transfer-encoding') continue;
    codings ??= [];
    for (const coding of rawHeaders[i + 1]!.split(',')) {
      const trimmed = coding.trim().toLowerCase();
      if (trimmed !== '') codings.push(trimmed);
    }
  }
  return codings;
}
