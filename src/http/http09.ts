// HTTP/0.9 (RFC 1945 §4.1): `GET /target` and the answer is the body alone, then
// the connection closes. node's parser cannot read it, so the preface hands the
// request on as HTTP/1.0 and this strips the status line and headers from what
// node writes back. The app sees httpVersion '0.9'.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const http09 = Symbol('corral.http09');
type Http09Socket = Socket & { [http09]?: true };

const HEAD_END = '\r\n\r\n';

export function serveAsHttp09(socket: Socket): void {
  (socket as Http09Socket)[http09] = true;
  const write = socket.write;
  let headGone = false;
  // node writes the head first, whole (alone or at the start of the first body chunk).
  socket.write = function writeBodyOnly(this: Socket, data: string | Uint8Array, ...rest: unknown[]) {
    if (!headGone) {
      const end = typeof data === 'string' ? data.indexOf(HEAD_END) : Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(HEAD_END);
      if (end >= 0) {
        headGone = true;
        data = data.slice(end + HEAD_END.length);
      } else data = '';
    }
    return (write as (...args: unknown[]) => boolean).call(this, data, ...rest);
  } as Socket['write'];
}

/** Shows an HTTP/0.9 request as what it was. */
export function markHttp09(req: IncomingMessage): void {
  if (!(req.socket as Http09Socket)[http09]) return;
  req.httpVersion = '0.9';
  req.httpVersionMajor = 0;
  req.httpVersionMinor = 9;
}
