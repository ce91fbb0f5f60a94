// HTTP/2 for the connections that speak it (--http-protocols h2): a TLS
// connection that negotiated `h2`, or a cleartext one that opened with the
// prior-knowledge preface. The listening socket stays the HTTP/1.1 server's
// (accepting, --worker-connections, PROXY protocol, TLS); each HTTP/2
// connection is handed here and served by node:http2 through its
// compatibility API, so a node-style app gets a request and a response it
// already knows. Per stream, corral does what it does for an HTTP/1.1 request:
// the screen (limits, Host, `_`), trusted proxies' headers, Expect, the Server
// header, then the same bookkeeping (observers, counters) as HTTP/1.1.
// Per connection: an idle one is closed with GOAWAY after --keep-alive, one
// whose client stops reading while a response waits is cut (found by a sweep
// over the connections), and a drain sends
// GOAWAY so that in-flight streams finish and no new ones start.
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Settings } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { countBodyBytesOf } from '../log/response-body-bytes.js';
import { dropConnectionSpecificTrailers } from './http2-connection-fields.js';
import { BadRequest } from './bad-request.js';
import { forwardedClient } from './forwarded-client.js';
import { http2RequestScreen } from './screen-http2-request.js';
import { sendHttp2EarlyHints } from './write-early-hints.js';
import { monotonicMs } from '../monotonic-ms.js';

export interface Http2Sessions {
  /** Serves a connection in HTTP/2: a TLS socket that negotiated h2, or a cleartext one with its preface put back. */
  adopt(socket: Socket): void;
  /** GOAWAY on every connection: the streams under way finish, each connection then closes; later ones are closed at once. */
  drain(): void;
  /** Cuts every connection. */
  stop(): void;
  /** A response that came through onRequest has closed (told by the response's one 'close' listener, the worker's). */
  responseClosed(res: ServerResponse): void;
}

export interface Http2SessionsOptions {
  settings: Settings;
  logger: Logger;
  onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /** Observers (access log, metrics) look at requests after their stream closed: keep what they read. */
  observed: boolean;
  /** Every response in flight in the worker, HTTP/1.1 ones too (walked only when a connection has been silent long). */
  inFlight: () => Iterable<ServerResponse>;
}

/**
 * A connection's streams under way, counted rather than kept: a 'close' listener
 * on every stream (and a Set of them) cost ~4 µs a request. Served responses
 * carry their connection's count, and the worker's response-close bookkeeping
 * says when one ends.
 */
interface OpenStreams {
  open: number;
  lastClosed: () => void;
  /** Bytes the connection had read and written at the last sweep. */
  moved: number;
  /**
   * Since when (ms) a sweep has seen bytes waiting for the client, in that quiet spell. A response the app
   * has just written waits in node's queue for a moment too: only a wait that lasts is the client's doing.
   */
  waitingSince: number | undefined;
  /** The client's address, read once: node's session.socket is a Proxy, costly to go through for every stream. */
  peer: string | undefined;
}
const openStreamsKey = Symbol('corral.http2OpenStreams');
type Counted = { [openStreamsKey]?: OpenStreams };

/**
 * Floods node:http2 bounds, set here rather than left to defaults that may
 * change. Rapid reset (CVE-2023-44487) and a CONTINUATION flood are bounded by
 * nghttp2 itself (a reset rate limit, a cap on CONTINUATION frames) and by the
 * header list size; PING and SETTINGS floods by its cap on queued
 * acknowledgements and by maxSessionMemory.
 */
const FLOOD_BOUNDS = {
  /** MB of nghttp2 memory per connection (frames queued for a peer that does not read among them). */
  maxSessionMemory: 10,
  /** Settings in one SETTINGS frame. */
  maxSettings: 32,
  /** PINGs this server sent and is waiting to have answered. */
  maxOutstandingPings: 10,
  /** Invalid frames a peer may send before it is disconnected. */
  maxSessionInvalidFrames: 100,
  /** Streams refused (past max concurrent streams) before the peer is disconnected. */
  maxSessionRejectedStreams: 100,
} as const;

/** Pseudo-header fields a request carries (:method, :scheme, :authority, :path, :protocol). */
const PSEUDO_HEADERS = 5;

export function http2Sessions({ settings, logger, onRequest, observed, inFlight }: Http2SessionsOptions): Http2Sessions {
  const screen = http2RequestScreen(settings);
  const forwarded = forwardedClient(settings);
  const serverHeader = settings.serverHeader;
  const keepAliveMs = settings.keepAlive * 1000;
  const firstStreamMs = settings.headerTimeout > 0 ? settings.headerTimeout * 1000 : keepAliveMs;
  const stallMs = settings.headerTimeout * 1000;
  const sessions = new Set<Http2Session>();
  let draining = false;
  /** The stall sweep, running while there are connections (see sweepStalled). */
  let sweep: NodeJS.Timeout | undefined;

  const server = http2.createServer({
    settings: {
      maxConcurrentStreams: settings.http2MaxConcurrentStreams,
      initialWindowSize: settings.http2InitialWindowSize,
      maxHeaderListSize: settings.http2MaxHeaderListSize,
      enablePush: false,
    },
    // node refuses a stream past this many fields on its own; one more than the limit lets the screen answer 431.
    maxHeaderListPairs: settings.limitRequestFields + 1 + PSEUDO_HEADERS,
    ...FLOOD_BOUNDS,
  });
  sendHttp2EarlyHints(server);
  countBodyBytesOf(http2.Http2ServerResponse.prototype, true);
  dropConnectionSpecificTrailers(http2.Http2ServerResponse.prototype as unknown as Parameters<typeof dropConnectionSpecificTrailers>[0]);

  /** Runs the checks; a request that fails them is answered here and never reaches the app. */
  const admit = (req: Http2ServerRequest, res: Http2ServerResponse, streams: OpenStreams | undefined): boolean => {
    const bad = screen(req) ?? forwarded?.(req as unknown as IncomingMessage, streams?.peer);
    if (!bad) return true;
    bad.log(logger, req.socket.remoteAddress);
    answer(res, bad);
    return false;
  };
  const answer = (res: Http2ServerResponse, bad: BadRequest) => {
    res.writeHead(bad.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(bad.body), ...(serverHeader ? { server: serverHeader } : {}) });
    res.end(bad.body);
  };
  const serve = (req: Http2ServerRequest, res: Http2ServerResponse, streams: OpenStreams | undefined) => {
    if (streams) {
      streams.open += 1;
      (res as Counted)[openStreamsKey] = streams;
    }
    if (serverHeader) res.setHeader('server', serverHeader);
    onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  };

  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const streams = streamsOf(req);
    if (observed) keepPeer(req, streams);
    if (admit(req, res, streams)) serve(req, res, streams);
  });
  // Expect: 100-continue: the interim response goes out once the request passed the checks (node would send it first).
  server.on('checkContinue', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const streams = streamsOf(req);
    if (observed) keepPeer(req, streams);
    if (!admit(req, res, streams)) return;
    res.writeContinue();
    serve(req, res, streams);
  });
  server.on('checkExpectation', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const bad = new BadRequest(417, `the expectation '${req.headers.expect}' cannot be met; only 100-continue is supported`);
    bad.log(logger, req.socket.remoteAddress);
    answer(res, bad);
  });
  // A stream's errors (reset by the client, cut with the connection) are swallowed by node's compatibility layer.
  server.on('session', (session: Http2Session) => watch(session));

  /**
   * Idle (no stream served under way) past its time: GOAWAY and close. Client stopped reading while a response
   * waits: cut. Streams refused by the screen are not counted: a connection that sends nothing else is closed as
   * one that opened no stream.
   */
  const watch = (session: Http2Session) => {
    sessions.add(session);
    session.on('error', (error: Error) => logger.debug(`HTTP/2 connection from ${session.socket?.remoteAddress}: ${error.message}`));
    // One timer per connection, re-armed (refresh) when its last stream closes, not one made and cleared per stream:
    // when it fires with streams open, a later last close re-arms it.
    let idle: NodeJS.Timeout | undefined;
    let first: NodeJS.Timeout | undefined;
    const streams: OpenStreams = {
      open: 0,
      lastClosed: () => {
        if (session.closed) return;
        if (draining || keepAliveMs <= 0) return void session.close();
        if (idle) idle.refresh();
        else idle = setTimeout(closeIfIdle, keepAliveMs).unref();
      },
      moved: 0,
      waitingSince: undefined,
      peer: session.socket?.remoteAddress,
    };
    const closeIfIdle = () => {
      if (streams.open === 0 && !session.closed) session.close();
    };
    (session as Counted)[openStreamsKey] = streams;
    session.once('close', () => {
      clearTimeout(idle);
      clearTimeout(first);
      sessions.delete(session);
      if (sessions.size === 0) sweep = void clearInterval(sweep);
    });
    // A connection whose preface came during the drain is not served (its GOAWAY alone would leave it open: node
    // closes a session only once what it queued, its first SETTINGS, has gone, and a silent client never takes it).
    if (draining) return void session.destroy();
    // A connection that opens no stream at all is closed after --header-timeout (or --keep-alive when that is off).
    if (firstStreamMs > 0) first = setTimeout(() => streams.open === 0 && !idle && session.close(), firstStreamMs).unref();
    if (stallMs > 0) sweep ??= setInterval(sweepStalled, sweepMs).unref();
  };

  /**
   * Connections on which nothing has moved either way for --header-timeout: one with bytes waiting for its client
   * to read them is stalled, and cut (an app still working on a response is not). A sweep over the connections
   * now and then, not node's session.setTimeout: node re-arms that timer on every frame, a microsecond a request.
   */
  const sweepMs = Math.max(250, Math.min(5000, stallMs / 4));
  const sweepStalled = () => {
    const now = monotonicMs();
    for (const session of sessions) {
      const streams = (session as Counted)[openStreamsKey];
      if (!streams || session.destroyed) continue;
      const socket = session.socket as Socket;
      const moved = socket.bytesRead + socket.bytesWritten;
      if (moved !== streams.moved) {
        streams.moved = moved;
        streams.waitingSince = undefined;
        continue;
      }
      if (streams.open === 0 || !waitsForPeer(session, streams, inFlight())) {
        streams.waitingSince = undefined;
        continue;
      }
      streams.waitingSince ??= now;
      // Bytes have waited for the client, with nothing moving, for --header-timeout (seen so at each sweep since).
      if (now - streams.waitingSince >= stallMs) {
        logger.info(`HTTP/2 connection from ${socket.remoteAddress} cut: its client read nothing for ${settings.headerTimeout} s while a response waited (--header-timeout)`);
        session.destroy();
      }
    }
  };

  return {
    adopt(socket) {
      server.emit('connection', socket);
    },
    drain() {
      draining = true;
      for (const session of sessions) session.close();
    },
    stop() {
      draining = true;
      sweep = void clearInterval(sweep);
      for (const session of sessions) session.destroy();
    },
    responseClosed(res) {
      const streams = (res as Counted)[openStreamsKey];
      if (!streams) return;
      (res as Counted)[openStreamsKey] = undefined;
      streams.open -= 1;
      if (streams.open === 0) streams.lastClosed();
    },
  };
}

/**
 * req.socket (node's view of the connection) reads the session's socket while the stream is open, the stream itself
 * once it closed: the client's address is copied onto the stream, so the access log and observers that run after
 * the response still see it.
 */
function keepPeer(req: Http2ServerRequest, streams: OpenStreams | undefined): void {
  const stream = req.stream as ServerHttp2Stream & { remoteAddress?: string };
  stream.remoteAddress = streams ? streams.peer : stream.session?.socket?.remoteAddress;
}

/** The stream's connection's count (absent only for a connection that came as the worker drains, destroyed at once). */
const streamsOf = (req: Http2ServerRequest) => (req.stream.session as Counted | undefined)?.[openStreamsKey];

/** Bytes queued for the client that it has not taken: in nghttp2, in the socket, or in a stream past its flow-control window. */
function waitsForPeer(session: Http2Session, streams: OpenStreams, inFlight: Iterable<ServerResponse>): boolean {
  if ((session.state.outboundQueueSize ?? 0) > 1 || (session.state.remoteWindowSize ?? 1) <= 0) return true;
  if (((session.socket as Socket | undefined)?.writableLength ?? 0) > 0) return true;
  for (const res of inFlight) {
    if ((res as Counted)[openStreamsKey] !== streams) continue;
    if (((res as unknown as Http2ServerResponse).stream?.writableLength ?? 0) > 0) return true;
  }
  return false;
}
