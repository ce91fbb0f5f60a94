// The Server header on every response whose app did not set one. Added as the
// head is written rather than with setHeader up front: node's writeHead folds
// repeated headers given as an array (two Set-Cookie) once any header was set
// before it.
import { type OutgoingHttpHeaders, ServerResponse } from 'node:http';

type Headers = OutgoingHttpHeaders | readonly unknown[] | undefined | null;
type WriteHead = ServerResponse['writeHead'];

const writeHeadOfNode = ServerResponse.prototype.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;

function names(headers: Headers, name: string): boolean {
  if (!headers) return false;
  if (Array.isArray(headers)) {
    for (let index = 0; index < headers.length; index += 2) if (String(headers[index]).toLowerCase() === name) return true;
    return false;
  }
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return true;
  return false;
}

/** A writeHead to put on each response (an own property, so frameworks that swap the prototype keep it). */
export function writeHeadWithServer(value: string): WriteHead {
  return function writeHead(this: ServerResponse, statusCode: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown) {
    const reason = typeof reasonOrHeaders === 'string' ? reasonOrHeaders : undefined;
    let headers = (reason === undefined ? reasonOrHeaders : maybeHeaders) as Headers;
    if (!this.hasHeader('server') && !names(headers, 'server')) {
      if (!headers) this.setHeader('server', value);
      else if (Array.isArray(headers)) headers = [...headers, 'server', value];
      else headers = { ...headers, server: value };
    }
    return reason === undefined ? writeHeadOfNode.call(this, statusCode, headers) : writeHeadOfNode.call(this, statusCode, reason, headers);
  } as WriteHead;
}
