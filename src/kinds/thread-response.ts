// Writes what the app answered in a pool thread onto the real response. The
// main thread owns the connection, so it alone decides its framing: the body's
// length, keep-alive or close.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ThreadResponse } from './thread-messages.js';

const mayHaveBody = (status: number) => status !== 204 && status !== 304 && status >= 200;

export function writeThreadResponse(req: IncomingMessage, res: ServerResponse, response: ThreadResponse): void {
  const headers: string[] = [];
  let declaredLength: string | undefined;
  const from = response.headers;
  for (let index = 0; index < from.length; index += 2) {
    const name = from[index];
    const value = from[index + 1];
    switch (name.toLowerCase()) {
      case 'content-length':
        declaredLength = value;
        break;
      case 'connection':
        if (/\bclose\b/i.test(value)) res.shouldKeepAlive = false;
        break;
      case 'transfer-encoding':
      case 'keep-alive':
        break;
      default:
        headers.push(name, value);
    }
  }
  const body = response.body ? Buffer.from(response.body) : undefined;
  if (mayHaveBody(response.status)) {
    // A HEAD response carries no body but may say how long the GET one would be.
    if (req.method !== 'HEAD') headers.push('content-length', String(body?.byteLength ?? 0));
    else if (declaredLength !== undefined) headers.push('content-length', declaredLength);
  }
  if (response.statusText) res.writeHead(response.status, response.statusText, headers);
  else res.writeHead(response.status, headers);
  res.end(body);
}
