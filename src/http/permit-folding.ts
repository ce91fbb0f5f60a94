// Every connection's bytes pass through a HeaderUnfolder on their way to
// node's parser, which stays strict (no insecureHTTPParser): chunk extensions
// lose their BWS, and with --permit-obsolete-folding a folded header line
// arrives as one line.
import type { Socket } from 'node:net';
import { HeaderUnfolder } from './unfold-headers.js';

const ignore = () => {};

/**
 * Routes what the socket reads through an unfolder; returns it for bytes read
 * before (the preface's). Call `readThroughJs` once the HTTP server has taken the socket.
 * `unfoldFolds` false: chunk extensions' BWS only (see HeaderUnfolder).
 */
export function unfoldIncoming(socket: Socket, unfoldFolds = true): HeaderUnfolder {
  const unfolder = new HeaderUnfolder(unfoldFolds);
  const push = socket.push;
  socket.push = function pushUnfolded(this: Socket, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk === null || !Buffer.isBuffer(chunk)) return push.call(this, chunk, encoding);
    return push.call(this, unfolder.push(chunk));
  };
  return unfolder;
}

/**
 * node's HTTP server reads a socket in C++ when it can, past any JS; a 'data'
 * listener makes it read through the stream (and so through push) instead.
 */
export function readThroughJs(socket: Socket): void {
  socket.on('data', ignore);
}
