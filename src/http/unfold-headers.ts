// Node's strict HTTP parser (llhttp) rejects obsolete line folding (RFC 9112 §5.2) and any whitespace
// on a chunk-size line, even the BWS around `;` and `=` that RFC 9112 §7.1.1 allows in chunk
// extensions; corral never turns on `insecureHTTPParser`. A connection's bytes can pass through this
// transformer before llhttp instead: it follows the request framing just far enough to find each
// header section and chunk-size line, replaces every obs-fold (CRLF plus the SP/HTAB run that starts
// the continuation line) by one SP, which the RFC allows a server to do (with
// `--permit-obsolete-folding` only), and drops the BWS of chunk extensions. Whatever it does not fully
// understand it hands on unchanged for the rest of the connection, so llhttp stays the judge.
// Every connection goes through it, so the common message — a whole head in one read, with no
// obs-fold, no chunked or upgraded body, perhaps a Content-Length body — is passed at once, the
// chunk read handed on as it is.

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const CRLF = Buffer.from('\r\n', 'latin1');

/** A header section this large is refused by llhttp long before; not worth following. */
const MAX_HEAD_BYTES = 1024 * 1024;
/** More BWS than this on a chunk-size line is not worth holding back: handed on as it is (llhttp refuses it). */
const MAX_HELD_SPACE = 256;

/** tchar (RFC 9110 §5.6.2), by byte. */
const IS_TCHAR = new Uint8Array(256);
for (const char of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") IS_TCHAR[char.charCodeAt(0)] = 1;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** In a head, anything that needs the byte-by-byte path: a body framed otherwise than by one plain length, a protocol switch, a tunnel, an obs-fold. */
const NOT_PLAIN = /transfer-encoding|upgrade|^CONNECT|\n[ \t]/i;
/** A request line and field lines as the byte-by-byte path follows them (no bare CR or LF, a token and a colon opening each field line); anything else is left to it, to give up on. */
const WELL_FORMED_HEAD = /^[^\r\n]*(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n]*)*$/;
const CONTENT_LENGTH_NAME = /content-length/gi;
/** The one Content-Length line of a plain head, as interpretFieldLine reads it. */
const CONTENT_LENGTH_LINE = /\r\ncontent-length:[ \t]*([0-9]{1,15})[ \t]*(?:\r\n|$)/i;
const DECIMAL = /^[0-9]+$/;

type State =
  // The header section, byte by byte.
  | 'message-start' // before the request line; empty lines are allowed here
  | 'leading-empty-line-lf'
  | 'request-line'
  | 'request-line-lf'
  | 'field-line-start'
  | 'field-line'
  | 'field-line-lf' // CR held back: it may begin an obs-fold
  | 'after-field-line' // CRLF held back: an SP/HTAB next makes it an obs-fold
  | 'fold-whitespace' // dropping the rest of the SP/HTAB run of an obs-fold
  | 'head-end-lf'
  // The body, passed through.
  | 'fixed-body'
  | 'chunk-size-start'
  | 'chunk-size'
  // A chunk extension (RFC 9112 §7.1.1), whose BWS (SP/HTAB around `;` and `=`) is held back and dropped
  // once what follows shows it was BWS: llhttp refuses any whitespace on a chunk-size line.
  | 'ext-before-semicolon'
  | 'ext-after-semicolon'
  | 'ext-name'
  | 'ext-after-name'
  | 'ext-after-equals'
  | 'ext-value'
  | 'ext-quoted'
  | 'ext-quoted-pair'
  | 'ext-after-quoted'
  | 'chunk-size-lf'
  | 'chunk-data'
  | 'chunk-data-cr'
  | 'chunk-data-lf'
  | 'trailer-line-start'
  | 'trailer-line'
  | 'trailer-line-lf'
  | 'trailer-end-lf'
  // Given up (or upgraded): everything from here on goes out unchanged.
  | 'passthrough';

const isWhitespace = (byte: number) => byte === SP || byte === HTAB;
const trimWhitespace = (text: string) => text.replace(/^[ \t]+|[ \t]+$/g, '');

/** Stateful, one per connection: feed each chunk read from the socket, get the bytes to hand to the HTTP parser (possibly fewer, held back until a decision can be made, or more, released from earlier). */
export class HeaderUnfolder {
  /**
   * @param unfoldFolds false: only BWS in chunk extensions is dropped; an obs-fold makes it give up, so
   * llhttp sees the fold and refuses it (without --permit-obsolete-folding).
   */
  constructor(private readonly unfoldFolds = true) {}

  private state: State = 'message-start';

  /** How many bytes of a held-back CRLF (0, 1 or 2) have not been written out yet. */
  private heldBack = 0;
  /** SP/HTAB of a chunk-size line held back: dropped if it turns out to be BWS, else written out as it was. */
  private heldSpace = Buffer.allocUnsafe(MAX_HELD_SPACE);
  private heldSpaceLength = 0;
  private headBytes = 0;
  /** The current request line or (unfolded) field line, kept to learn the message's framing. */
  private line = Buffer.allocUnsafe(256);
  private lineLength = 0;

  // What the current head says about its body.
  private isConnect = false;
  private hasUpgradeHeader = false;
  private connectionMentionsUpgrade = false;
  private contentLength: number | null = null;
  private hasTransferEncoding = false;
  private lastCodingIsChunked = false;

  /** Bytes still to pass of a Content-Length body or of a chunk's data. */
  private remaining = 0;

  // The output of the push in progress.
  private out: Buffer = Buffer.alloc(0);
  private outLength = 0;

  push(chunk: Buffer): Buffer {
    if (this.state === 'passthrough') return chunk;
    const plainUntil = this.passPlain(chunk, 0);
    if (plainUntil === chunk.length) return chunk;
    // Output never exceeds the input plus what was held back.
    this.out = Buffer.allocUnsafe(chunk.length + this.heldBack + this.heldSpaceLength);
    this.outLength = 0;
    this.emitSlice(chunk, 0, plainUntil);
    let at = plainUntil;
    while (at < chunk.length) {
      const state = this.state;
      if (state === 'message-start') {
        const next = this.passPlain(chunk, at);
        if (next > at) {
          this.emitSlice(chunk, at, next);
          at = next;
          continue;
        }
      }
      if (state === 'passthrough') {
        this.emitSlice(chunk, at, chunk.length);
        break;
      }
      if (state === 'fixed-body' || state === 'chunk-data') {
        const end = Math.min(chunk.length, at + this.remaining);
        this.emitSlice(chunk, at, end);
        this.remaining -= end - at;
        at = end;
        if (this.remaining === 0) {
          if (state === 'fixed-body') this.beginMessage();
          else this.state = 'chunk-data-cr';
        }
        continue;
      }
      if (state === 'request-line' || state === 'field-line') {
        // A run of ordinary bytes in a line goes at once (the bulk of a head), not byte by byte.
        let end = at;
        while (end < chunk.length && chunk[end] !== CR && chunk[end] !== LF) end++;
        if (end > at) {
          this.headBytes += end - at;
          if (this.headBytes > MAX_HEAD_BYTES) {
            // Too large a head to follow: the rest goes out unchanged (nothing is held back inside a line).
            this.state = 'passthrough';
            continue;
          }
          this.appendSliceToLine(chunk, at, end);
          this.emitSlice(chunk, at, end);
          at = end;
          continue;
        }
      }
      const understood = isHeadState(state)
        ? ++this.headBytes <= MAX_HEAD_BYTES && this.headByte(chunk[at]!)
        : this.bodyByte(chunk[at]!);
      if (!understood) {
        // The current byte was not written: release what was held back, then the rest unchanged.
        this.emitSlice(CRLF, 0, this.heldBack);
        this.heldBack = 0;
        this.emitSlice(this.heldSpace, 0, this.heldSpaceLength);
        this.heldSpaceLength = 0;
        this.state = 'passthrough';
        continue;
      }
      at++;
    }
    const result = this.out.subarray(0, this.outLength);
    this.out = Buffer.alloc(0);
    return result;
  }

  /**
   * The head of the message in progress was read without this unfolder (by llhttp, which stopped after
   * it): follows its body from here if it is chunked, else stays out of the way for good.
   */
  continueBody(chunked: boolean): void {
    this.beginMessage();
    this.state = chunked ? 'chunk-size-start' : 'passthrough';
  }

  /**
   * Passes whole plain heads (see NOT_PLAIN) and Content-Length bodies from `at`, as they are; returns
   * where the bytes stop being plain (the byte-by-byte path takes over there, in the state reached).
   */
  private passPlain(chunk: Buffer, at: number): number {
    while (at < chunk.length) {
      if (this.state === 'fixed-body') {
        const end = Math.min(chunk.length, at + this.remaining);
        this.remaining -= end - at;
        at = end;
        if (this.remaining === 0) this.beginMessage();
        continue;
      }
      if (this.state !== 'message-start') return at;
      // Empty lines before a request, and heads not whole in this read, take the byte-by-byte path.
      if (chunk[at] === CR || chunk[at] === LF) return at;
      const headEnd = chunk.indexOf(HEAD_END, at);
      if (headEnd < 0 || headEnd - at > MAX_HEAD_BYTES) return at;
      const head = chunk.toString('latin1', at, headEnd);
      if (NOT_PLAIN.test(head) || !WELL_FORMED_HEAD.test(head)) return at;
      const lengths = head.match(CONTENT_LENGTH_NAME)?.length ?? 0;
      let length = 0;
      if (lengths > 0) {
        const line = lengths === 1 ? CONTENT_LENGTH_LINE.exec(head) : null;
        if (!line) return at;
        length = Number(line[1]);
      }
      at = headEnd + HEAD_END.length;
      if (length > 0) {
        this.remaining = length;
        this.state = 'fixed-body';
      }
    }
    return at;
  }

  /** Consumes one byte of a header section; false (with nothing written for it) when it is not understood. */
  private headByte(byte: number): boolean {
    switch (this.state) {
      case 'message-start':
        if (byte === CR) {
          this.emitByte(byte);
          this.state = 'leading-empty-line-lf';
          return true;
        }
        if (byte === LF) return false;
        this.appendToLine(byte);
        this.emitByte(byte);
        this.state = 'request-line';
        return true;
      case 'leading-empty-line-lf':
        if (byte !== LF) return false;
        this.emitByte(byte);
        this.state = 'message-start';
        return true;
      case 'request-line':
        // A CRLF ending the request line is never a fold's, so nothing is held back here.
        if (byte === CR) this.state = 'request-line-lf';
        else if (byte === LF) return false;
        else this.appendToLine(byte);
        this.emitByte(byte);
        return true;
      case 'request-line-lf': {
        if (byte !== LF) return false;
        const requestLine = this.takeLine();
        this.isConnect = requestLine.split(' ', 1)[0] === 'CONNECT';
        this.emitByte(byte);
        this.state = 'field-line-start';
        return true;
      }
      case 'field-line-start':
        // Whitespace right after the request line is not a fold (there is no field to continue).
        if (isWhitespace(byte)) return false;
        return this.startFieldLine(byte);
      case 'field-line':
        return this.fieldLineByte(byte);
      case 'field-line-lf':
        if (byte !== LF) return false;
        this.heldBack = 2;
        this.state = 'after-field-line';
        return true;
      case 'after-field-line':
        if (isWhitespace(byte)) {
          if (!this.unfoldFolds) return false;
          this.heldBack = 0;
          this.appendToLine(SP);
          this.emitByte(SP);
          this.state = 'fold-whitespace';
          return true;
        }
        if (!this.interpretFieldLine(this.takeLine())) return false;
        this.emitSlice(CRLF, 0, 2);
        this.heldBack = 0;
        return this.startFieldLine(byte);
      case 'fold-whitespace':
        if (isWhitespace(byte)) return true;
        return this.fieldLineByte(byte);
      case 'head-end-lf':
        if (byte !== LF) return false;
        this.emitByte(byte);
        this.state = this.bodyFraming();
        if (this.state === 'message-start') this.beginMessage();
        return true;
      default:
        return false;
    }
  }

  private startFieldLine(byte: number): boolean {
    if (byte === CR) {
      // An empty line: the head ends, and no fold can follow.
      this.emitByte(byte);
      this.state = 'head-end-lf';
      return true;
    }
    this.state = 'field-line';
    return this.fieldLineByte(byte);
  }

  private fieldLineByte(byte: number): boolean {
    if (byte === LF) return false;
    if (byte === CR) {
      this.heldBack = 1;
      this.state = 'field-line-lf';
      return true;
    }
    this.appendToLine(byte);
    this.emitByte(byte);
    this.state = 'field-line';
    return true;
  }

  /** Notes what a complete (unfolded) field line says about framing; false for a line not understood. */
  private interpretFieldLine(line: string): boolean {
    const colon = line.indexOf(':');
    if (colon < 0) return false;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return false;
    const value = trimWhitespace(line.slice(colon + 1));
    switch (name.toLowerCase()) {
      case 'content-length':
        // Repeated or odd lengths are llhttp's to refuse.
        if (this.contentLength !== null || !DECIMAL.test(value)) return false;
        this.contentLength = Number(value);
        return Number.isSafeInteger(this.contentLength);
      case 'transfer-encoding': {
        const codings = value.split(',').map(trimWhitespace).filter((coding) => coding !== '');
        if (codings.length === 0) return false;
        this.hasTransferEncoding = true;
        this.lastCodingIsChunked = codings[codings.length - 1]!.toLowerCase() === 'chunked';
        return true;
      }
      case 'connection':
        // Looser than llhttp's token match on purpose: a false positive only stops the unfolding.
        if (value.toLowerCase().includes('upgrade')) this.connectionMentionsUpgrade = true;
        return true;
      case 'upgrade':
        this.hasUpgradeHeader = true;
        return true;
      default:
        return true;
    }
  }

  /** The state after a complete head, from what its field lines said. */
  private bodyFraming(): State {
    // After a tunnel or protocol switch the bytes are not HTTP any more.
    if (this.isConnect || (this.hasUpgradeHeader && this.connectionMentionsUpgrade)) return 'passthrough';
    if (this.hasTransferEncoding) {
      // Both framings, or a request body not ending in chunked, are llhttp's to refuse.
      if (this.contentLength !== null || !this.lastCodingIsChunked) return 'passthrough';
      return 'chunk-size-start';
    }
    if (this.contentLength !== null && this.contentLength > 0) {
      this.remaining = this.contentLength;
      return 'fixed-body';
    }
    return 'message-start';
  }

  /** Consumes one byte of chunked framing or trailers; false (with nothing written for it) when it is not understood. */
  private bodyByte(byte: number): boolean {
    switch (this.state) {
      case 'chunk-size-start':
      case 'chunk-size': {
        const digit = hexValue(byte);
        if (digit >= 0) {
          this.remaining = this.remaining * 16 + digit;
          if (!Number.isSafeInteger(this.remaining)) return false;
          this.state = 'chunk-size';
        } else if (this.state === 'chunk-size-start') {
          return false;
        } else if (byte === SEMICOLON) {
          this.state = 'ext-after-semicolon';
        } else if (byte === CR) {
          this.state = 'chunk-size-lf';
        } else if (isWhitespace(byte)) {
          return this.holdSpace(byte, 'ext-before-semicolon');
        } else {
          return false;
        }
        break;
      }
      case 'ext-before-semicolon':
        // After the size or a value: only `;` makes the whitespace BWS ("5 \r\n" stays as it is, for llhttp to refuse).
        if (isWhitespace(byte)) return this.holdSpace(byte, 'ext-before-semicolon');
        if (byte !== SEMICOLON) return false;
        this.dropHeldSpace('ext-after-semicolon');
        break;
      case 'ext-after-semicolon':
        if (isWhitespace(byte)) return this.holdSpace(byte, 'ext-after-semicolon');
        if (!IS_TCHAR[byte]) return false;
        this.dropHeldSpace('ext-name');
        break;
      case 'ext-name':
        if (IS_TCHAR[byte]) break;
        if (isWhitespace(byte)) return this.holdSpace(byte, 'ext-after-name');
        if (byte === EQUALS) this.state = 'ext-after-equals';
        else if (byte === SEMICOLON) this.state = 'ext-after-semicolon';
        else if (byte === CR) this.state = 'chunk-size-lf';
        else return false;
        break;
      case 'ext-after-name':
        if (isWhitespace(byte)) return this.holdSpace(byte, 'ext-after-name');
        if (byte === EQUALS) this.dropHeldSpace('ext-after-equals');
        else if (byte === SEMICOLON) this.dropHeldSpace('ext-after-semicolon');
        else return false;
        break;
      case 'ext-after-equals':
        if (isWhitespace(byte)) return this.holdSpace(byte, 'ext-after-equals');
        if (byte === DQUOTE) this.dropHeldSpace('ext-quoted');
        else if (IS_TCHAR[byte]) this.dropHeldSpace('ext-value');
        else return false;
        break;
      case 'ext-value':
        if (IS_TCHAR[byte]) break;
        if (isWhitespace(byte)) return this.holdSpace(byte, 'ext-before-semicolon');
        if (byte === SEMICOLON) this.state = 'ext-after-semicolon';
        else if (byte === CR) this.state = 'chunk-size-lf';
        else return false;
        break;
      case 'ext-quoted':
        // What may stand inside the quotes is llhttp's to judge; only the quoting is followed here.
        if (byte === CR || byte === LF) return false;
        if (byte === DQUOTE) this.state = 'ext-after-quoted';
        else if (byte === BACKSLASH) this.state = 'ext-quoted-pair';
        break;
      case 'ext-quoted-pair':
        if (byte === CR || byte === LF) return false;
        this.state = 'ext-quoted';
        break;
      case 'ext-after-quoted':
        if (isWhitespace(byte)) return this.holdSpace(byte, 'ext-before-semicolon');
        if (byte === SEMICOLON) this.state = 'ext-after-semicolon';
        else if (byte === CR) this.state = 'chunk-size-lf';
        else return false;
        break;
      case 'chunk-size-lf':
        if (byte !== LF) return false;
        this.state = this.remaining === 0 ? 'trailer-line-start' : 'chunk-data';
        break;
      case 'chunk-data-cr':
        if (byte !== CR) return false;
        this.state = 'chunk-data-lf';
        break;
      case 'chunk-data-lf':
        if (byte !== LF) return false;
        this.state = 'chunk-size-start';
        break;
      case 'trailer-line-start':
        // Trailers are passed as they are, so a folded one is left for llhttp to refuse.
        if (byte === LF || isWhitespace(byte)) return false;
        this.state = byte === CR ? 'trailer-end-lf' : 'trailer-line';
        break;
      case 'trailer-line':
        if (byte === LF) return false;
        if (byte === CR) this.state = 'trailer-line-lf';
        break;
      case 'trailer-line-lf':
        if (byte !== LF) return false;
        this.state = 'trailer-line-start';
        break;
      case 'trailer-end-lf':
        if (byte !== LF) return false;
        this.emitByte(byte);
        this.beginMessage();
        return true;
      default:
        return false;
    }
    this.emitByte(byte);
    return true;
  }

  /** Holds back one SP/HTAB of a chunk-size line; false (give up) past MAX_HELD_SPACE. */
  private holdSpace(byte: number, next: State): boolean {
    if (this.heldSpaceLength === MAX_HELD_SPACE) return false;
    this.heldSpace[this.heldSpaceLength++] = byte;
    this.state = next;
    return true;
  }

  /** The whitespace held back was BWS: it goes. */
  private dropHeldSpace(next: State): void {
    this.heldSpaceLength = 0;
    this.state = next;
  }

  private beginMessage(): void {
    this.state = 'message-start';
    this.headBytes = 0;
    this.lineLength = 0;
    this.isConnect = false;
    this.hasUpgradeHeader = false;
    this.connectionMentionsUpgrade = false;
    this.contentLength = null;
    this.hasTransferEncoding = false;
    this.lastCodingIsChunked = false;
    this.remaining = 0;
  }

  private appendToLine(byte: number): void {
    if (this.lineLength === this.line.length) {
      const grown = Buffer.allocUnsafe(this.line.length * 2);
      this.line.copy(grown, 0, 0, this.lineLength);
      this.line = grown;
    }
    this.line[this.lineLength++] = byte;
  }

  private appendSliceToLine(source: Buffer, start: number, end: number): void {
    const needed = this.lineLength + (end - start);
    if (needed > this.line.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.line.length * 2));
      this.line.copy(grown, 0, 0, this.lineLength);
      this.line = grown;
    }
    this.lineLength += source.copy(this.line, this.lineLength, start, end);
  }

  private takeLine(): string {
    const text = this.line.toString('latin1', 0, this.lineLength);
    this.lineLength = 0;
    return text;
  }

  private emitByte(byte: number): void {
    this.out[this.outLength++] = byte;
  }

  private emitSlice(source: Buffer, start: number, end: number): void {
    this.outLength += source.copy(this.out, this.outLength, start, end);
  }
}

function isHeadState(state: State): boolean {
  switch (state) {
    case 'message-start':
    case 'leading-empty-line-lf':
    case 'request-line':
    case 'request-line-lf':
    case 'field-line-start':
    case 'field-line':
    case 'field-line-lf':
    case 'after-field-line':
    case 'fold-whitespace':
    case 'head-end-lf':
      return true;
    default:
      return false;
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  return -1;
}
