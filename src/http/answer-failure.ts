// A short plain-text answer that ends the connection, for a request the app
// could not answer (it threw, it timed out); a response already under way is cut.
// Over HTTP/2 only the stream ends: the connection carries other requests.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** node:http2's compatibility response: it has the stream it answers on. */
const isHttp2 = (res: ServerResponse) => (res as { stream?: unknown }).stream !== undefined;

export function answerFailure(res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const close = isHttp2(res) ? {} : { connection: 'close' };
  res.writeHead(status, { 'content-type': 'text/plain', ...headers, ...close, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
