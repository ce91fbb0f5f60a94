// The request id that joins one request's lines across proxies and services:
// the client's (or the proxy's) `X-Request-Id` when it sent a usable one, else
// a new UUID. The app sees it in the request's headers (to pass on to the
// services it calls) and the client gets it back on the response.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What an id may be, as the common routers accept it: short, and nothing that could forge a log line or a header. */
const USABLE = /^[\w.+/=:@-]{1,200}$/;

/** The request's id, assigned once: kept when the client sent a usable one, else made and put in the request's headers. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const sent = req.headers[REQUEST_ID_HEADER];
  let id: string;
  if (typeof sent === 'string' && USABLE.test(sent)) {
    id = sent;
  } else {
    id = randomUUID();
    // Several ids, or one that is not usable: the app sees only the new one, in both header views.
    const raw = req.rawHeaders;
    for (let index = raw.length - 2; index >= 0; index -= 2) if (raw[index].toLowerCase() === REQUEST_ID_HEADER) raw.splice(index, 2);
    raw.push('X-Request-Id', id);
    req.headers[REQUEST_ID_HEADER] = id;
  }
  // Set before the app runs: an X-Request-Id the app sets itself replaces it.
  res.setHeader('X-Request-Id', id);
  return id;
}
