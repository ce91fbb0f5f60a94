// A short plain-text answer that ends the connection, for a request the app
// could not answer (it threw, it timed out); a response already under way is cut.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export function answerFailure(res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain', ...headers, connection: 'close', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
