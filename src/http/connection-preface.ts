// What a connection says before node's HTTP parser may see it: a PROXY
// protocol header (from a load balancer), an HTTP/0.9 simple request (which
// node's parser cannot read), HTTP/2's prior-knowledge preface (h2c, served by
// node:http2 when --http-protocols has h2), or a request line already longer than
// --limit-request-line (answered 414 at once rather than buffered). The first
// bytes are read here, then the socket goes to the server's own connection
// handling with those bytes put back, so node's parser and TLS run as usual.
import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { AddressAllowed } from '../sockets/address-allow-list.js';
import { BadRequest } from './bad-request.js';
import { serveAsHttp09 } from './http09.js';
import { readThroughJs, unfoldIncoming } from './permit-folding.js';
import { unfoldFromFirstChunked } from './unfold-from-first-chunked.js';
import { parseProxyHeader } from './proxy-protocol.js';

export interface PrefaceOptions {
  /** PROXY headers are read only when on; from peers not allowed, one is refused. */
  proxyProtocol: boolean;
  proxyAllowed: AddressAllowed;
  /** Plain HTTP only: over TLS the first bytes are a handshake. */
  plainHttp: boolean;
  limitRequestLine: number;
  /** For the answers given here: --server-header. */
  serverHeader: string;
  /** --permit-obsolete-folding, on plain HTTP (over TLS it is set up on the TLS socket). */
  unfoldHeaders: boolean;
  headerTimeoutMs: number;
  logger: Logger;
  /** Takes a cleartext connection that opened with HTTP/2's preface (its bytes put back); absent when h2 is not served. */
  http2?: (socket: Socket) => void;
}

const LF = 0x0a;
const CR = 0x0d;
/** `GET /target` and nothing more on the line: HTTP/0.9 (RFC 1945 §4.1). */
const SIMPLE_REQUEST = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\s]+)$/;
/** The first line of HTTP/2's connection preface (RFC 9113 §3.4); node:http2 checks the rest. */
const HTTP2_PREFACE_LINE = 'PRI * HTTP/2.0';

/** Puts the preface reading in front of the server's own 'connection' listeners. */
export function readPrefaceFirst(server: Server, options: PrefaceOptions): void {
  if (!options.plainHttp && !options.proxyProtocol) return;
  const unfoldHeaders = options.plainHttp && options.unfoldHeaders;
  const handOn = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    // Sockets handed over by the arbiter are made without it: a client's FIN after its request must not end the answer.
    socket.allowHalfOpen = true;
    readPreface(socket, options, (bytes) => {
      // Only what comes after the PROXY header is HTTP to unfold: every request with folding permitted; else
      // from the first chunked request on, for its chunk extensions' BWS (RFC 9112 §7.1.1), which llhttp refuses.
      let unfolder = unfoldHeaders ? unfoldIncoming(socket) : undefined;
      if (bytes.length > 0) socket.unshift(unfolder ? unfolder.push(bytes) : bytes);
      for (const listener of handOn) listener.call(server, socket);
      if (!unfolder && options.plainHttp && !unfoldFromFirstChunked(socket)) unfolder = unfoldIncoming(socket, false);
      if (unfolder) readThroughJs(socket);
    });
  });
}

function readPreface(socket: Socket, options: PrefaceOptions, handOn: (bytes: Buffer) => void): void {
  const { proxyProtocol, proxyAllowed, plainHttp, limitRequestLine, serverHeader, headerTimeoutMs, logger } = options;
  const peer = socket.remoteAddress;
  let proxyDone = !proxyProtocol;
  let received: Buffer = Buffer.alloc(0);
  let timer: NodeJS.Timeout | undefined;

  const finish = () => {
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('end', onEnd);
    socket.off('close', finish);
    clearTimeout(timer);
    socket.pause();
  };
  const refuse = (bad: BadRequest) => {
    finish();
    bad.log(logger, socket.remoteAddress);
    bad.answerOn(socket, serverHeader);
  };
  const passOn = (bytes: Buffer) => {
    // Called inside a 'data' event, which a socket in flowing mode emits only with nothing else buffered:
    // the bytes put back are all there is. (Reading more here would leave the stream waiting on a read the handle has stopped.)
    finish();
    handOn(bytes);
    // The bytes put back go to the parser on the next tick, before anything newly read. A TLS socket
    // takes them out of the buffer itself and reads on from the handle: resuming would spill them.
    if (plainHttp) socket.resume();
  };

  const onData = (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    if (!proxyDone) {
      const header = parseProxyHeader(received);
      if (header.kind === 'incomplete') return;
      if (header.kind === 'invalid') return refuse(new BadRequest(400, `malformed PROXY protocol header: ${header.reason}`));
      if (header.kind === 'header') {
        if (!proxyAllowed(peer)) return refuse(new BadRequest(403, `a PROXY protocol header from ${peer}, which is not in --proxy-allow-from`));
        if (header.source) seeClientAs(socket, header.source);
        received = received.subarray(header.length);
      }
      proxyDone = true;
    }
    if (!plainHttp) return passOn(received);
    decideOnRequestLine();
  };

  const decideOnRequestLine = () => {
    // Empty lines before a request are allowed (RFC 9112 §2.2).
    let start = 0;
    while (start < received.length && (received[start] === CR || received[start] === LF)) start += 1;
    const end = received.indexOf(LF, start);
    if (end < 0) {
      if (limitRequestLine > 0 && received.length - start > limitRequestLine + 1) {
        return refuse(new BadRequest(414, `the request line is longer than ${limitRequestLine} bytes (--limit-request-line)`));
      }
      if (start > 64) return refuse(new BadRequest(400, 'empty lines and no request'));
      return;
    }
    const line = received.toString('latin1', start, end > start && received[end - 1] === CR ? end - 1 : end);
    if (line === HTTP2_PREFACE_LINE && options.http2 && start === 0) {
      // node:http2 reads what the socket has buffered before it reads on from the connection itself.
      finish();
      socket.unshift(received);
      return options.http2(socket);
    }
    const simple = SIMPLE_REQUEST.exec(line);
    if (!simple) return passOn(received);
    finish();
    if (simple[1] !== 'GET') return refuse(new BadRequest(400, `an HTTP/0.9 request must be GET, not ${simple[1]}`));
    serveAsHttp09(socket);
    passOn(Buffer.from(`GET ${simple[2]} HTTP/1.0\r\n\r\n`, 'latin1'));
  };

  const onError = () => socket.destroy();
  // A client that goes before saying anything (a TCP health check) sent no request: nothing to answer or log.
  const onEnd = () => {
    finish();
    socket.end();
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('end', onEnd);
  socket.on('close', finish);
  if (headerTimeoutMs > 0) {
    timer = setTimeout(() => refuse(new BadRequest(408, 'the request head did not arrive within --header-timeout')), headerTimeoutMs);
    timer.unref();
  }
}

/** Every request on this connection comes from the client the PROXY header names. */
function seeClientAs(socket: Socket, source: { address: string; port: number; family: string }): void {
  Object.defineProperties(socket, {
    remoteAddress: { value: source.address, configurable: true },
    remotePort: { value: source.port, configurable: true },
    remoteFamily: { value: source.family, configurable: true },
  });
}
