// HTTP/2 from the client side, for tests: whole requests through node:http2's
// client, and raw frames (hand-encoded, with a literal-only HPACK encoder) for
// the floods and malformed input no well-behaved client would send.
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import net from 'node:net';

export interface Http2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Interim responses (1xx) before the final one, in order. */
  informational: IncomingHttpHeaders[];
  body: string;
  /** The trailers after the body, when the answer had any. */
  trailers: IncomingHttpHeaders | undefined;
}

export interface SessionOptions {
  /** For https: the CA to trust. */
  ca?: Buffer;
}

/** A client session (h2c prior knowledge for http:, ALPN h2 for https:); rejects if it does not connect. */
export function connectHttp2(url: string, { ca }: SessionOptions = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, ca ? { ca, ALPNProtocols: ['h2'] } : {});
    session.once('connect', () => {
      session.off('error', reject);
      // A test's own errors are asserted on the streams; a session cut by the server is not a crash of the test.
      session.on('error', () => {});
      resolve(session);
    });
    session.once('error', reject);
  });
}

/** One request on a session; resolves with the whole answer, rejects on a reset stream or at the deadline. */
export function requestOn(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  { body, timeoutMs = 5000, onResponse }: { body?: string | Buffer; timeoutMs?: number; onResponse?: () => void } = {},
): Promise<Http2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const informational: IncomingHttpHeaders[] = [];
    let answer: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), timeoutMs);
    stream.on('headers', (head) => informational.push(head));
    stream.on('response', (head) => {
      answer = head;
      onResponse?.();
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', (fields) => (trailers = fields));
    stream.on('end', () => {
      clearTimeout(timer);
      if (!answer) return reject(new Error('stream ended without a response'));
      resolve({ status: Number(answer[':status']), headers: answer, informational, body: Buffer.concat(chunks).toString('utf8'), trailers });
    });
    stream.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    stream.on('close', () => {
      clearTimeout(timer);
      if (!answer) reject(new Error(`stream closed without a response (RST_STREAM code ${stream.rstCode})`));
    });
    if (body !== undefined) stream.end(body);
  });
}

/** One request on a fresh session, closed afterwards. */
export async function http2Get(url: string, path = '/', options: SessionOptions & { headers?: OutgoingHttpHeaders; body?: string } = {}): Promise<Http2Answer> {
  const session = await connectHttp2(url, options);
  try {
    return await requestOn(session, { ':path': path, ':method': options.body === undefined ? 'GET' : 'POST', ...options.headers }, { body: options.body });
  } finally {
    session.close();
  }
}

// --- Raw frames (RFC 9113 §4, §6) ---

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 1, ACK: 1, END_HEADERS: 4 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export const settingsFrame = (settings: [number, number][] = []) => {
  const payload = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, value], index) => {
    payload.writeUInt16BE(id, index * 6);
    payload.writeUInt32BE(value, index * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
};

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInteger(value: number, prefixBits: number, firstByte = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A header block of literal fields without indexing, new names, no Huffman (RFC 7541 §6.2.2). */
export function headerBlock(fields: [string, string][]): Buffer {
  return Buffer.concat(
    fields.flatMap(([name, value]) => {
      const nameBytes = Buffer.from(name, 'latin1');
      const valueBytes = Buffer.from(value, 'latin1');
      return [Buffer.from([0x00]), hpackInteger(nameBytes.length, 7), nameBytes, hpackInteger(valueBytes.length, 7), valueBytes];
    }),
  );
}

export const requestFields = (path = '/', authority = 'localhost'): [string, string][] => [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':authority', authority],
  [':path', path],
];

export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A raw HTTP/2 connection: writes bytes, parses the frames the server sends, knows when it is closed. */
export class RawHttp2 {
  readonly frames: RawFrame[] = [];
  closed = false;
  private buffer = Buffer.alloc(0);
  private waiters = new Set<() => void>();

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 9) {
        const length = this.buffer.readUIntBE(0, 3);
        if (this.buffer.length < 9 + length) break;
        this.frames.push({ type: this.buffer[3], flags: this.buffer[4], streamId: this.buffer.readUInt32BE(5) & 0x7fffffff, payload: this.buffer.subarray(9, 9 + length) });
        this.buffer = this.buffer.subarray(9 + length);
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects and sends the preface and an empty SETTINGS frame (with `paused`, the socket is not read: a peer that never reads). */
  static open(port: number, { paused = false, settings = settingsFrame() }: { paused?: boolean; settings?: Buffer } = {}): Promise<RawHttp2> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.off('error', reject);
        const raw = new RawHttp2(socket);
        if (paused) socket.pause();
        socket.write(Buffer.concat([PREFACE, settings]));
        resolve(raw);
      });
      socket.once('error', reject);
    });
  }

  /** Writes, swallowing the error of a connection the server already cut. */
  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve();
      if (this.socket.write(bytes)) return resolve();
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  goaway(): { lastStreamId: number; errorCode: number } | undefined {
    const found = this.frames.find((each) => each.type === FRAME.GOAWAY);
    return found && { lastStreamId: found.payload.readUInt32BE(0) & 0x7fffffff, errorCode: found.payload.readUInt32BE(4) };
  }

  /** Resolves when `condition` holds; rejects at the deadline, saying what was seen. */
  until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms (frames: ${this.frames.map((each) => each.type).join(',')}; closed: ${this.closed})`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** GOAWAY received, or the connection closed: the server ended it. */
  ended(timeoutMs = 10_000): Promise<void> {
    return this.until('GOAWAY or close', () => this.closed || this.goaway() !== undefined, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake() {
    for (const waiter of this.waiters) waiter();
  }
}

// --- A steady HTTP/2 load ---

export interface Http2LoadResult {
  sent: number;
  ok: number;
  /** Streams the server had taken (at or below a GOAWAY's last stream id, or no GOAWAY) that failed. */
  failures: string[];
  /** Streams the server refused unprocessed (REFUSED_STREAM, above a GOAWAY's last stream id): sent again, as RFC 9113 §8.7 allows. */
  refused: number;
  sessions: number;
  bodies: Map<string, number>;
}

/** `clients` loops, each on its own HTTP/2 connection with `streams` requests in flight; a connection that got GOAWAY is replaced. */
export function startHttp2Load(url: string, { clients = 4, streams = 4, path = '/' } = {}) {
  const result: Http2LoadResult = { sent: 0, ok: 0, failures: [], refused: 0, sessions: 0, bodies: new Map() };
  let running = true;
  const open = new Set<ClientHttp2Session>();
  const connect = async (): Promise<ClientHttp2Session> => {
    const session = await connectHttp2(url);
    result.sessions += 1;
    open.add(session);
    session.once('close', () => open.delete(session));
    return session;
  };
  const usable = (session: ClientHttp2Session) => !session.closed && !session.destroyed && !(session as { goawayReceived?: boolean }).goawayReceived;
  const once = (session: ClientHttp2Session): Promise<void> =>
    new Promise((resolve) => {
      let stream;
      try {
        stream = session.request({ ':path': path });
      } catch {
        return resolve(); // GOAWAY arrived between the check and the request: nothing was sent.
      }
      result.sent += 1;
      const chunks: Buffer[] = [];
      let status = 0;
      stream.on('response', (head) => (status = Number(head[':status'])));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (status === 0) return; // no response: 'close' says why
        const body = Buffer.concat(chunks).toString('utf8');
        if (status === 200) result.ok += 1;
        else result.failures.push(`status ${status}`);
        result.bodies.set(body, (result.bodies.get(body) ?? 0) + 1);
        resolve();
      });
      stream.on('error', () => {});
      stream.on('close', () => {
        if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) {
          result.sent -= 1;
          result.refused += 1;
        } else if (status === 0) result.failures.push(`stream closed unanswered (code ${stream.rstCode})`);
        resolve();
      });
      stream.setTimeout(30_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    });
  const loops = Array.from({ length: clients }, async () => {
    let session = await connect();
    session.on('goaway', () => ((session as { goawayReceived?: boolean }).goawayReceived = true));
    while (running) {
      if (!usable(session)) {
        session.close();
        session = await connect();
        const current = session;
        current.on('goaway', () => ((current as { goawayReceived?: boolean }).goawayReceived = true));
      }
      await Promise.all(Array.from({ length: streams }, () => once(session)));
    }
    session.close();
  });
  return {
    result,
    async stop(): Promise<Http2LoadResult> {
      running = false;
      await Promise.all(loops);
      for (const session of open) session.destroy();
      return result;
    },
  };
}
