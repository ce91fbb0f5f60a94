// Serves a fetch-style app ((Request) => Response) on node's http server: the
// IncomingMessage becomes a Request, the Response is written back as it streams.
// The returned listener rejects when the app fails, so guardHandler answers 500
// and logs exactly as it does for node-style apps.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { EarlyHints, FetchClient, FetchContext, FetchHandler } from '../app/app-shape.js';
import { answerFailure } from './answer-failure.js';

type BodyReader = ReadableStreamDefaultReader<Uint8Array>;
type ReadResult = Awaited<ReturnType<BodyReader['read']>>;

/** A Host header that cannot smuggle a path or query into the URL the app sees. */
const VALID_HOST = /^(?:[\w.-]+|\[[\da-f:.]+\])(?::\d{1,5})?$/i;
/** An http(s) absolute-form target: what follows its scheme. */
const ABSOLUTE_FORM = /^https?(:\/\/.*)$/is;
const NOT_YET = Symbol('not yet');
const COLON = 0x3a;
const ignore = () => {};

const statusHasNoBody = (status: number) => status === 204 || status === 304 || status < 200;

/** The scheme is the connection's (or a trusted proxy's, through forwardedClient): never what the client wrote in the target. */
function requestUrl(req: IncomingMessage): string | undefined {
  const target = req.url ?? '/';
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  if (target.startsWith('/')) {
    const host = req.headers.host ?? 'localhost';
    if (!VALID_HOST.test(host)) return undefined;
    return `${scheme}://${host}${target}`;
  }
  // Absolute form (RFC 9112 §3.2.2, checked by the request screen): its authority and path, on this connection's scheme.
  // `*` has no URL.
  const rest = ABSOLUTE_FORM.exec(target);
  return rest === null ? undefined : `${scheme}${rest[1]}`;
}

function toRequest(req: IncomingMessage): Request | undefined {
  const url = requestUrl(req);
  if (url === undefined) return undefined;
  const method = req.method ?? 'GET';
  const headers = new Headers();
  const raw = req.rawHeaders;
  // HTTP/2's pseudo-headers (:method, :path…) are in the request's method and URL already, and no header names.
  for (let index = 0; index < raw.length; index += 2) if (raw[index].charCodeAt(0) !== COLON) headers.append(raw[index], raw[index + 1]);
  // Only a request with Content-Length or Transfer-Encoding has a body (RFC 9112 §6.3); over HTTP/2, one whose
  // HEADERS frame did not end the stream (RFC 9113 §8.1). The body is read lazily: if the app never reads it,
  // node discards it and the connection stays usable.
  const length = req.headers['content-length'];
  const http2 = (req as { stream?: { endAfterHeaders: boolean } }).stream;
  const framed = http2 ? !http2.endAfterHeaders : (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  const hasBody = method !== 'GET' && method !== 'HEAD' && framed;
  try {
    return new Request(url, hasBody ? { method, headers, body: req, duplex: 'half' } : { method, headers });
  } catch {
    // A method fetch refuses (TRACE) or a URL it cannot parse.
    return undefined;
  }
}

function isResponse(value: unknown): value is Response {
  if (value instanceof Response) return true;
  // A Response from another implementation (a userland undici, a polyfill) has the same surface.
  const candidate = value as Partial<Response> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.status === 'number' && typeof candidate.headers === 'object';
}

function responseHeaders(response: Response): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  // Headers iterates each Set-Cookie on its own, and folds every other repeated header into one line.
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers[name] = value;
    else if (headers[name]) (headers[name] as string[]).push(value);
    else headers[name] = [value];
  }
  return headers;
}

function writeHead(res: ServerResponse, response: Response, headers: OutgoingHttpHeaders) {
  // HTTP/2 has no reason phrase (RFC 9113 §8.3.2): node would warn and drop it.
  if (response.statusText && res.req.httpVersionMajor !== 2) res.writeHead(response.status, response.statusText, headers);
  else res.writeHead(response.status, headers);
}

const drained = (res: ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });

/** The next read if it settles within this turn of the event loop, else NOT_YET. */
function readSoon(reader: BodyReader): { soon: Promise<ReadResult | typeof NOT_YET>; later: Promise<ReadResult> } {
  const later = reader.read();
  let timer: NodeJS.Immediate | undefined;
  const notYet = new Promise<typeof NOT_YET>((resolve) => (timer = setImmediate(resolve, NOT_YET)));
  const soon = Promise.race([later, notYet]).finally(() => clearImmediate(timer));
  return { soon, later };
}

async function sendResponse(response: Response, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = responseHeaders(response);
  const body = response.body;
  if (body === null || req.method === 'HEAD' || statusHasNoBody(response.status)) {
    // Release whatever the app holds open for a body that will not be sent.
    if (body !== null) body.cancel().catch(ignore);
    writeHead(res, response, headers);
    res.end();
    return;
  }
  const reader = body.getReader() as BodyReader;
  // A client that goes away stops the app's stream (its cancel() runs) instead of leaving it producing.
  res.once('close', () => {
    if (!res.writableFinished) reader.cancel().catch(ignore);
  });
  const first = await reader.read();
  if (first.done) {
    writeHead(res, response, headers);
    res.end();
    return;
  }
  const { soon, later } = readSoon(reader);
  const next = await soon;
  if (next !== NOT_YET && next.done) {
    // The whole body is at hand: send it with a Content-Length, in one write, rather than chunked.
    if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
      headers['content-length'] = first.value.byteLength;
    }
    writeHead(res, response, headers);
    res.end(first.value);
    return;
  }
  // A stream: headers and the first chunk go now, each later chunk as it comes.
  writeHead(res, response, headers);
  res.write(first.value);
  let result = next === NOT_YET ? await later : next;
  while (!result.done && !res.destroyed) {
    if (!res.write(result.value)) await drained(res);
    result = await reader.read();
  }
  res.end();
}

/** The fetch handler's second argument; `client` is worked out only when the app asks. */
class NodeFetchContext implements FetchContext {
  constructor(
    readonly incoming: IncomingMessage,
    readonly outgoing: ServerResponse,
  ) {}

  [key: string]: unknown;

  get client(): FetchClient {
    const socket = this.incoming.socket as TLSSocket;
    return { address: socket.remoteAddress, port: socket.remotePort, scheme: socket.encrypted ? 'https' : 'http' };
  }

  /** What res.writeEarlyHints does on corral's servers (see write-early-hints.ts), for the Response to come. */
  earlyHints(hints: EarlyHints): boolean {
    return (this.outgoing as unknown as { writeEarlyHints(hints: EarlyHints): unknown }).writeEarlyHints(hints) !== false;
  }
}

/** A node request listener serving `fetch`; it rejects when the app throws or returns no Response. */
export function fetchAdapter(fetch: FetchHandler): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const request = toRequest(req);
    if (request === undefined) return answerFailure(res, 400, 'Bad Request\n');
    const response: unknown = await fetch(request, new NodeFetchContext(req, res));
    if (!isResponse(response)) {
      throw new TypeError(`the app's fetch handler returned ${response === null ? 'null' : typeof response}, not a Response`);
    }
    await sendResponse(response, req, res);
  };
}
