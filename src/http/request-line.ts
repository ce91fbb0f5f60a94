// A request as a log line names it: method and path (no query: it may carry secrets), bounded.
import type { IncomingMessage } from 'node:http';

const MAX_PATH = 200;

export function requestLine(req: IncomingMessage): string {
  const target = req.url ?? '';
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  return `${req.method} ${path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path}`;
}
