// Raw HTTP/1.x over a real TCP connection: exact request bytes go out (latin1
// strings, optionally in several writes), and responses are read off the wire by
// a small strict reader (status line, CRLF-only field lines, body by
// Content-Length, chunked, or until close). Every wait has a deadline, and every
// socket is destroyed on the way out, failure or not.
import net from 'node:net';

export type Bytes = string | Buffer;

/** Request bytes are written as given: a string is taken byte for byte (latin1). */
export const toBuffer = (bytes: Bytes) => (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);

export interface RawResponse {
  httpVersion: string;
  status: number;
  reason: string;
  /** Lowercased names; a repeated field's values joined with ', '. */
  headers: Record<string, string>;
  /** As received, in order. */
  rawHeaders: Array<[string, string]>;
  body: Buffer;
  /** The body decoded as UTF-8. */
  text: string;
  chunked: boolean;
  rawTrailers: Array<[string, string]>;
  /** 1xx responses received before this one (100 Continue). */
  interim: RawResponse[];
}

/** The server sent bytes this reader cannot take as an HTTP/1.x response. */
export class ResponseSyntaxError extends Error {}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/(\d\.\d) (\d{3}) ([\t\x20-\x7e\x80-\xff]*)$/;

/** A short printable picture of some bytes, for failure messages. */
export function preview(bytes: Buffer, max = 300): string {
  const text = JSON.stringify(bytes.subarray(0, max).toString('latin1'));
  return bytes.length > max ? `${text}… (${bytes.length} bytes)` : text;
}

const CR = 0x0d;
const LF = 0x0a;

/** Every LF in [start, end) must follow a CR, and every CR must precede an LF. */
function checkLineEndings(buf: Buffer, start: number, end: number) {
  for (let i = start; i < end; i += 1) {
    if (buf[i] === LF && (i === start || buf[i - 1] !== CR)) throw new ResponseSyntaxError(`bare LF in the response head at byte ${i - start}: ${preview(buf.subarray(start))}`);
    if (buf[i] === CR && i + 1 < end && buf[i + 1] !== LF) throw new ResponseSyntaxError(`bare CR in the response head at byte ${i - start}: ${preview(buf.subarray(start))}`);
  }
}

function parseFieldLine(line: string, where: string): [string, string] {
  if (line.startsWith(' ') || line.startsWith('\t')) throw new ResponseSyntaxError(`obs-fold in the ${where}: ${JSON.stringify(line)}`);
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon) : '';
  if (!TOKEN.test(name)) throw new ResponseSyntaxError(`malformed field line in the ${where}: ${JSON.stringify(line)}`);
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new ResponseSyntaxError(`control character in a field value in the ${where}: ${JSON.stringify(line)}`);
  return [name, value];
}

/** The chunked body starting at `start`: undefined while incomplete. */
function parseChunked(buf: Buffer, start: number): { body: Buffer; trailers: Array<[string, string]>; end: number } | undefined {
  const chunks: Buffer[] = [];
  let pos = start;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos, 'latin1');
    if (lineEnd < 0) {
      checkLineEndings(buf, pos, buf.length);
      return undefined;
    }
    const line = buf.toString('latin1', pos, lineEnd);
    const match = /^([0-9A-Fa-f]{1,15})(?:[ \t]*;[^\r\n]*)?$/.exec(line);
    if (!match) throw new ResponseSyntaxError(`malformed chunk-size line ${JSON.stringify(line)}`);
    const size = parseInt(match[1], 16);
    pos = lineEnd + 2;
    if (size === 0) {
      const trailers: Array<[string, string]> = [];
      for (;;) {
        const end = buf.indexOf('\r\n', pos, 'latin1');
        if (end < 0) {
          checkLineEndings(buf, pos, buf.length);
          return undefined;
        }
        checkLineEndings(buf, pos, end);
        if (end === pos) return { body: Buffer.concat(chunks), trailers, end: end + 2 };
        trailers.push(parseFieldLine(buf.toString('latin1', pos, end), 'trailer section'));
        pos = end + 2;
      }
    }
    if (buf.length < pos + size + 2) return undefined;
    chunks.push(buf.subarray(pos, pos + size));
    if (buf[pos + size] !== CR || buf[pos + size + 1] !== LF) throw new ResponseSyntaxError(`chunk data of ${size} bytes is not followed by CRLF: ${preview(buf.subarray(pos))}`);
    pos += size + 2;
  }
}

/**
 * One response message at `start`: undefined while incomplete. `head`: it answers
 * a HEAD request (no body). `eof`: the server has closed, which ends a body
 * delimited by the close.
 */
export function parseResponse(buf: Buffer, start: number, { head = false, eof = false } = {}): { response: RawResponse; end: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n', start, 'latin1');
  checkLineEndings(buf, start, headEnd < 0 ? buf.length : headEnd + 2);
  if (headEnd < 0) return undefined;
  const [statusLine, ...fieldLines] = buf.toString('latin1', start, headEnd).split('\r\n');
  const status = STATUS_LINE.exec(statusLine);
  if (!status) throw new ResponseSyntaxError(`malformed status line ${JSON.stringify(statusLine)}`);
  const rawHeaders = fieldLines.map((line) => parseFieldLine(line, 'response head'));
  const headers: Record<string, string> = {};
  for (const [name, value] of rawHeaders) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  const code = Number(status[2]);
  const response: RawResponse = {
    httpVersion: status[1],
    status: code,
    reason: status[3],
    headers,
    rawHeaders,
    body: Buffer.alloc(0),
    text: '',
    chunked: false,
    rawTrailers: [],
    interim: [],
  };
  const bodyStart = headEnd + 4;
  const done = (body: Buffer, end: number) => {
    response.body = body;
    response.text = body.toString('utf8');
    return { response, end };
  };
  if (code < 200 || code === 204 || code === 304 || head) return done(Buffer.alloc(0), bodyStart);
  if ('transfer-encoding' in headers) {
    const codings = headers['transfer-encoding'].split(',').map((coding) => coding.trim().toLowerCase());
    if (codings[codings.length - 1] === 'chunked') {
      const chunked = parseChunked(buf, bodyStart);
      if (!chunked) return undefined;
      response.chunked = true;
      response.rawTrailers = chunked.trailers;
      return done(chunked.body, chunked.end);
    }
  } else if ('content-length' in headers) {
    const values = new Set(headers['content-length'].split(',').map((value) => value.trim()));
    const [length] = values;
    if (values.size !== 1 || !/^\d{1,15}$/.test(length)) throw new ResponseSyntaxError(`invalid Content-Length ${JSON.stringify(headers['content-length'])}`);
    const end = bodyStart + Number(length);
    return buf.length >= end ? done(buf.subarray(bodyStart, end), end) : undefined;
  }
  // Delimited by the close.
  return eof ? done(buf.subarray(bodyStart), buf.length) : undefined;
}

export interface OpenOptions {
  host?: string;
  /** Connect from this local address (127.0.0.2: a peer the server does not trust). */
  localAddress?: string;
  deadlineMs?: number;
}

/** One client connection; everything it receives is kept, and read through in order. */
export class RawConnection {
  private received: Buffer = Buffer.alloc(0);
  private consumed = 0;
  private waiters = new Set<() => void>();
  /** The server ended its side, or the socket closed (reset included). */
  eof = false;
  error: Error | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
      this.wake();
    });
    const ended = () => {
      this.eof = true;
      this.wake();
    };
    socket.on('end', ended);
    socket.on('close', ended);
    socket.on('error', (error) => {
      // A reset or a write after the server closed is an outcome the tests look at, not a crash.
      this.error = error;
    });
  }

  static open(port: number, { host = '127.0.0.1', localAddress, deadlineMs = 3000 }: OpenOptions = {}): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, localAddress });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${host}:${port} within ${deadlineMs} ms`));
      }, deadlineMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', failed);
        resolve(new RawConnection(socket));
      });
      const failed = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once('error', failed);
    });
  }

  private wake() {
    for (const check of [...this.waiters]) check();
  }

  /** Resolves with `attempt`'s first result other than undefined; rejects if it throws or at the deadline. */
  private waitFor<T>(attempt: () => T | undefined, deadlineMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        let result: T | undefined;
        try {
          result = attempt();
        } catch (error) {
          finish();
          return reject(error);
        }
        if (result !== undefined) {
          finish();
          resolve(result);
        }
      };
      timer = setTimeout(() => {
        finish();
        reject(new Error(`${what}: nothing within ${deadlineMs} ms; ${this.describe()}`));
      }, deadlineMs);
      this.waiters.add(check);
      check();
    });
  }

  /** What arrived and is not read yet, and whether the server closed. */
  describe(): string {
    const state = this.eof ? `the server closed${this.error ? ` (${(this.error as { code?: string }).code ?? this.error.message})` : ''}` : 'the connection is open';
    return `${state}; unread: ${preview(this.unread())}`;
  }

  /** Bytes received and not read as a response yet. */
  unread(): Buffer {
    return this.received.subarray(this.consumed);
  }

  /** Everything received so far. */
  all(): Buffer {
    return this.received;
  }

  /** Resolves once the bytes are handed to the kernel, or the write failed (the server may have closed: that is for the reads to tell). */
  write(bytes: Bytes): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve();
      this.socket.write(toBuffer(bytes), () => resolve());
    });
  }

  /** Writes each part in turn, one write (one segment: no Nagle) each. */
  async writeAll(parts: Bytes | Bytes[]): Promise<void> {
    for (const part of Array.isArray(parts) ? parts : [parts]) {
      if (this.socket.destroyed || !this.socket.writable) return;
      await this.write(part);
    }
  }

  /** The next final response; 1xx responses before it are kept in its `interim`. */
  async readResponse({ head = false, deadlineMs = 3000 } = {}): Promise<RawResponse> {
    const interim: RawResponse[] = [];
    for (;;) {
      const response = await this.readMessage(head, deadlineMs);
      if (response.status >= 200) {
        response.interim = interim;
        return response;
      }
      interim.push(response);
    }
  }

  /** The next message, which must be a 1xx. */
  async readInterim({ deadlineMs = 3000 } = {}): Promise<RawResponse> {
    const response = await this.readMessage(false, deadlineMs);
    if (response.status >= 200) throw new Error(`expected a 1xx interim response, got ${response.status} ${response.reason}`);
    return response;
  }

  private async readMessage(head: boolean, deadlineMs: number): Promise<RawResponse> {
    const { response, end } = await this.waitFor(
      () => {
        const parsed = parseResponse(this.received, this.consumed, { head, eof: this.eof });
        if (parsed) return parsed;
        if (this.eof) throw new Error(`the server closed before a complete response; ${this.describe()}`);
        return undefined;
      },
      deadlineMs,
      'waiting for a response',
    );
    this.consumed = end;
    return response;
  }

  /** True once the server has closed; false if it has not by the deadline. */
  async waitForClose(deadlineMs: number): Promise<boolean> {
    try {
      return await this.waitFor(() => (this.eof ? true : undefined), deadlineMs, 'waiting for the server to close');
    } catch {
      return false;
    }
  }

  destroy() {
    this.socket.destroy();
  }
}

/** The request the helpers send to prove a connection is still usable. */
export const PROBE = 'GET /pid HTTP/1.1\r\nHost: x\r\n\r\n';

export interface ExchangeOptions {
  /** How many final responses the request bytes should produce. */
  expect?: number;
  /** The method behind each expected response, where it matters (HEAD has no body). */
  methods?: string[];
  /** Deadline for each wait: connecting, each response. */
  deadlineMs?: number;
  /**
   * What the case expects after the last response, which decides how it is looked at:
   * 'closed' waits up to closeDeadlineMs for the server to close; 'open' sends a
   * second well-formed request (PROBE) on the same connection and reads its answer.
   */
  connection?: 'open' | 'closed';
  closeDeadlineMs?: number;
  host?: string;
}

export interface Exchange {
  responses: RawResponse[];
  /** Whether the server closed the connection after the last expected response. */
  closedByServer: boolean;
  /** 'open' cases: the answer to PROBE, when one came. */
  probe?: RawResponse;
  probeError?: string;
  /** 'closed' cases: bytes received after the last expected response (say, an answer to a smuggled request). */
  extra: Buffer;
}

/** Sends `bytes` (several writes if an array) on a new connection and reads `expect` responses. */
export async function exchange(port: number, bytes: Bytes | Bytes[], options: ExchangeOptions = {}): Promise<Exchange> {
  const { expect = 1, methods = [], deadlineMs = 3000, connection = 'open', closeDeadlineMs = 1500, host } = options;
  const conn = await RawConnection.open(port, { host, deadlineMs });
  try {
    // Written while reading: a server that answers and closes before taking every byte is seen, not waited on.
    const written = conn.writeAll(bytes);
    const responses: RawResponse[] = [];
    for (let i = 0; i < expect; i += 1) {
      try {
        responses.push(await conn.readResponse({ head: methods[i]?.toUpperCase() === 'HEAD', deadlineMs }));
      } catch (error) {
        const got = responses.map((response) => response.status).join(', ');
        throw new Error(`response ${i + 1} of ${expect}${got ? ` (after ${got})` : ''}: ${(error as Error).message}`);
      }
    }
    if (connection === 'closed') {
      const closedByServer = await conn.waitForClose(closeDeadlineMs);
      return { responses, closedByServer, extra: Buffer.from(conn.unread()) };
    }
    if (conn.eof) return { responses, closedByServer: true, extra: Buffer.from(conn.unread()) };
    // Every part was taken before the last answer came (the app answers after the whole body), so this does not wait long.
    await written;
    await conn.write(PROBE);
    try {
      const probe = await conn.readResponse({ deadlineMs });
      return { responses, closedByServer: false, probe, extra: Buffer.alloc(0) };
    } catch (error) {
      return { responses, closedByServer: conn.eof, probeError: (error as Error).message, extra: Buffer.from(conn.unread()) };
    }
  } finally {
    conn.destroy();
  }
}

/** Sends `bytes` and returns everything received until the server closes (or the deadline): for HTTP/0.9, whose answer is the body alone. */
export async function rawExchange(port: number, bytes: Bytes | Bytes[], { deadlineMs = 3000, host, localAddress }: OpenOptions = {}) {
  const conn = await RawConnection.open(port, { host, localAddress, deadlineMs });
  try {
    void conn.writeAll(bytes);
    const closedByServer = await conn.waitForClose(deadlineMs);
    return { data: Buffer.from(conn.all()), closedByServer };
  } finally {
    conn.destroy();
  }
}
