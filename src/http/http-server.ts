// The one HTTP(S) server every built-in kind serves with: node's parser (llhttp,
// strict, never insecureHTTPParser) plus what it leaves to the server — the
// connection preface (PROXY protocol, HTTP/0.9, an over-long first line), the
// request screen (limits, Host, codings, `_` headers), trusted proxies' headers,
// Expect, CONNECT, timeouts, the Server header, checked early hints, and a right
// status for every request it refuses. A connection that speaks HTTP/2 (ALPN h2,
// or the h2c preface) is handed to the HTTP/2 sessions instead (http2-sessions.ts).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Settings } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { addressAllowList } from '../sockets/address-allow-list.js';
import { BadRequest, markRefused, wasRefused } from './bad-request.js';
import { readPrefaceFirst } from './connection-preface.js';
import { forwardedClient } from './forwarded-client.js';
import type { Http2Sessions } from './http2-sessions.js';
import { markHttp09 } from './http09.js';
import { parseFailure } from './parse-failure.js';
import { readThroughJs, unfoldIncoming } from './permit-folding.js';
import { dropForbiddenTrailers } from './request-trailers.js';
import { endLingering } from '../sockets/end-lingering.js';
import { skipSecondEnd } from '../sockets/end-once.js';
import { ASKS_TO_UPGRADE, HAS_TRANSFER_CODING, requestScreen } from './screen-request.js';
import { sendServerHeader } from './server-header.js';
import { sendEarlyHintsWith, writeHttp1EarlyHints } from './write-early-hints.js';
import { nodeBuiltin } from '../node-builtin.js';

/** node:https (and TLS with it) loads only for a server that speaks TLS. */
const loadHttps = () => nodeBuiltin<typeof https>('node:https');

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpServerOptions {
  settings: Settings;
  logger: Logger;
  /** https options (from tlsServerOptions and the sslContext hook); absent for plain HTTP. */
  tls?: https.ServerOptions;
  onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  onUpgrade?: UpgradeListener;
  /** Where connections that speak HTTP/2 go (--http-protocols h2); absent: HTTP/1.x only. */
  http2?: Http2Sessions;
}

/** No head is ever buffered beyond this, whatever the limits say (0 = unlimited included). */
const MAX_HEAD_BYTES = 8 * 1024 * 1024;

/** The most a head within the limits can take: the request line and every field at its largest. */
function headSizeCap({ limitRequestLine, limitRequestFields, limitRequestFieldSize }: Settings): number {
  const line = limitRequestLine || MAX_HEAD_BYTES;
  const field = limitRequestFieldSize || MAX_HEAD_BYTES;
  return Math.min(MAX_HEAD_BYTES, line + 2 + limitRequestFields * (field + 2) + 2);
}

/** The response node is writing on a connection (the earliest not finished). */
type Answer = ServerResponse & { _last?: boolean };
const answerUnderWay = (socket: Socket) => (socket as { _httpMessage?: Answer })._httpMessage;

/** node marks an answer that says Connection: close as the last (_last) without touching shouldKeepAlive. */
const endsConnection = (answer: Answer) => answer.shouldKeepAlive === false || answer._last === true;

/**
 * What node calls on a connection once its last answer is written (Connection: close): node would close at
 * once. Requests read while it lingers never reach the app (see `serve`).
 */
function lingeringClose(this: Socket): void {
  endLingering(this);
}

/** Every connection of corral's servers closes lingering (plain ones here, TLS ones on secureConnection). */
function closeLingering(socket: Socket): void {
  (socket as Socket & { destroySoon(): void }).destroySoon = lingeringClose;
  // Lingering keeps the connection open until the client closes it, and node ends it again then.
  skipSecondEnd(socket);
}

export function createHttpServer({ settings, logger, tls, onRequest, onUpgrade, http2 }: HttpServerOptions): http.Server {
  const screen = requestScreen(settings);
  const forwarded = forwardedClient(settings);
  const serverHeader = settings.serverHeader;
  const headerTimeoutMs = settings.headerTimeout * 1000;

  /** Runs the checks; a request that fails them is answered here and never reaches the app. */
  const admit = (req: IncomingMessage, refuse: (bad: BadRequest) => void, res?: ServerResponse): boolean => {
    const screened = screen(req);
    const bad = typeof screened === 'number' ? forwarded?.(req) : screened;
    if (bad) {
      bad.log(logger, req.socket.remoteAddress);
      refuse(bad);
      return false;
    }
    const flags = screened as number;
    if (flags !== 0) {
      if (flags & HAS_TRANSFER_CODING) dropForbiddenTrailers(req);
      // node serves an Upgrade nobody takes as an ordinary request, but drops whatever was pipelined behind it
      // in the same read: the connection ends after this answer instead, so no request goes unanswered on it.
      if (flags & ASKS_TO_UPGRADE && !onUpgrade && res) res.shouldKeepAlive = false;
    }
    markHttp09(req);
    return true;
  };
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    // A request pipelined behind the connection's last answer: node parses and hands it over all the same, but its
    // answer would never be sent. It never reaches the app (one answer per request, nothing after the close). An
    // earlier answer still being made may yet turn out to be the last (the app says Connection: close): wait for it.
    const previous = answerUnderWay(req.socket);
    if (previous && previous !== res) {
      if (!previous.writableFinished) return void previous.once('finish', () => serve(req, res));
      if (endsConnection(previous)) return void req.resume();
    }
    if (!req.socket.writable) return void req.resume();
    if (!admit(req, (bad) => bad.answer(res, serverHeader), res)) return;
    onRequest(req, res);
  };

  const options: http.ServerOptions = {
    maxHeaderSize: headSizeCap(settings),
    // The screen checks Host itself, so a missing one gets the same answer and log line as the other faults.
    requireHostHeader: false,
    headersTimeout: headerTimeoutMs,
    // gunicorn has no limit on the time a whole request may take; a slow upload is the app's to judge.
    requestTimeout: 0,
    // How often node looks for connections past --header-timeout.
    connectionsCheckingInterval: headerTimeoutMs > 0 ? Math.max(250, Math.min(5000, headerTimeoutMs / 4)) : 30_000,
    keepAliveTimeout: settings.keepAlive * 1000,
  };
  const server = tls ? loadHttps().createServer({ ...options, ...tls }, serve) : http.createServer(options, serve);
  if (!tls) server.prependListener('connection', closeLingering);
  server.keepAliveTimeout = settings.keepAlive * 1000;
  // node starts timing heads (--header-timeout) when the server starts listening: a server that never listens (the
  // sync kind serves connections handed to it) would time none. Its own 'listening' listener, the only one yet, does it.
  if (!server.listening) server.emit('listening');
  // A client may send its request and half-close (FIN) at once: node then answers it and closes, rather than
  // ending the connection before the answer is written (node's default).
  (server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  if (serverHeader) sendServerHeader(server, serverHeader);
  // res.writeEarlyHints checked, and never after the head or to an HTTP/1.0 client (see write-early-hints.ts).
  sendEarlyHintsWith(server, writeHttp1EarlyHints);
  // node keeps this many and drops the rest silently; one more lets the screen see that the limit was passed.
  server.maxHeadersCount = settings.limitRequestFields + 1;

  // Expect: 100-continue: the interim response goes out as the request is handed to the app, once it passed the checks.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!admit(req, (bad) => bad.answer(res, serverHeader), res)) return;
    res.writeContinue();
    onRequest(req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const bad = new BadRequest(417, `the expectation '${req.headers.expect}' cannot be met; only 100-continue is supported`);
    bad.log(logger, req.socket.remoteAddress);
    bad.answer(res, serverHeader);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const bad = new BadRequest(501, 'CONNECT is not supported: this is not a forward proxy');
    bad.log(logger, req.socket.remoteAddress);
    bad.answerOn(socket as Socket, serverHeader);
  });
  // Without an upgrade listener node serves an Upgrade request as an ordinary one, which is right for an app that takes none.
  if (onUpgrade) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!admit(req, (bad) => bad.answerOn(socket as Socket, serverHeader))) return;
      onUpgrade(req, socket, head);
    });
  }
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    const net = socket as Socket;
    // Already answered (a refused request's body is still arriving): the rest gets no second answer.
    if (wasRefused(net)) return;
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return void net.destroy();
    const pending = answerUnderWay(net);
    // After the connection's last answer (its request complete), what the client still sends is no request to
    // answer: it is read to the close. A request whose own body is malformed is still answered, below.
    if (!net.writable || (pending?.req.complete && endsConnection(pending))) return void markRefused(net);
    // Bytes after a request that ended the connection (Connection: close, HTTP/1.0): no request to answer; the answer
    // under way is the connection's last (one answer per request, nothing after the close).
    if (error.code === 'HPE_CLOSED_CONNECTION') return void markRefused(net);
    const bad = parseFailure(error);
    bad.log(logger, net.remoteAddress);
    if (pending && !pending.writableFinished) {
      // A response already under way cannot be followed by a status of its own: cut it.
      if (pending.headersSent) return void net.destroy();
      // A later pipelined request failed: the earlier response goes first, then this answer.
      if (pending.req.complete) {
        markRefused(net);
        return void pending.once('finish', () => bad.answerOn(net, serverHeader));
      }
      // This request's own body was malformed (a bad chunk): the app will not see it end; answer for it.
      pending.shouldKeepAlive = false;
    }
    bad.answerOn(net, serverHeader);
  });

  readPrefaceFirst(server, {
    proxyProtocol: settings.proxyProtocol,
    proxyAllowed: addressAllowList(settings.proxyAllowIps),
    plainHttp: !tls,
    limitRequestLine: settings.limitRequestLine,
    serverHeader,
    unfoldHeaders: settings.permitObsoleteFolding,
    headerTimeoutMs,
    logger,
    http2: tls ? undefined : http2?.adopt,
  });
  if (tls) secureConnectionChecks(server as https.Server, settings, http2);
  return server;
}

function secureConnectionChecks(server: https.Server, settings: Settings, http2: Http2Sessions | undefined): void {
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    closeLingering(socket);
    // TLS sockets are made without it: a client's close_notify after its request must not end the answer.
    socket.allowHalfOpen = true;
    peerChecks(socket, settings);
    // As on plain connections: BWS in chunk extensions, and folds with --permit-obsolete-folding.
    unfoldIncoming(socket, settings.permitObsoleteFolding);
  });
  // After node's own listener has taken the socket (see readThroughJs).
  server.on('secureConnection', readThroughJs);
  if (http2) routeByAlpn(server, settings, http2);
}

/** What every TLS connection gets, whichever HTTP it speaks: the PROXY header's client, the --cert-reqs optional check. */
function peerChecks(socket: TLSSocket, settings: Settings): void {
  // The client a PROXY header named was recorded on the TCP socket the TLS socket wraps.
  const parent = (socket as TLSSocket & { _parent?: object })._parent;
  if (parent && Object.hasOwn(parent, 'remoteAddress')) {
    for (const key of ['remoteAddress', 'remotePort', 'remoteFamily']) {
      Object.defineProperty(socket, key, { value: (parent as Record<string, unknown>)[key], configurable: true });
    }
  }
  // --cert-reqs optional: no certificate is fine, a certificate that does not verify is not.
  if (settings.certReqs === 'optional' && !socket.authorized && Object.keys(socket.getPeerCertificate()).length > 0) {
    socket.destroy();
  }
}

/** A connection that negotiated h2 goes to HTTP/2; every other one to the HTTP/1.1 listeners, untouched. */
function routeByAlpn(server: https.Server, settings: Settings, http2: Http2Sessions): void {
  const http1 = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
  server.removeAllListeners('secureConnection');
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol !== 'h2') {
      for (const listener of http1) listener.call(server, socket);
      return;
    }
    peerChecks(socket, settings);
    if (!socket.destroyed) http2.adopt(socket);
  });
}
