// The Server header on every response whose app did not set one. Added as the
// head is written, not with setHeader up front: node's writeHead folds repeated
// headers given as an array (two Set-Cookie) once any header was set before it.
// It is one patch of ServerResponse.prototype.writeHead, acting only for the
// servers that asked (found through the response's socket): an own writeHead on
// every response costs a sixth of hello-world throughput, and frameworks that
// swap a response's prototype (express) still inherit from ServerResponse's.
import { type OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Server } from 'node:net';

type Headers = OutgoingHttpHeaders | readonly unknown[] | undefined | null;
type NodeWriteHead = (this: ServerResponse, ...args: unknown[]) => ServerResponse;

const serverHeaderKey = Symbol('corral.serverHeader');
type WithServerHeader = { [serverHeaderKey]?: string };

let patched = false;

/** Every response of `server` gets `Server: value` unless its app sets one. */
export function sendServerHeader(server: Server, value: string): void {
  (server as Server & WithServerHeader)[serverHeaderKey] = value;
  if (!patched) patchWriteHead();
}

function patchWriteHead(): void {
  patched = true;
  const writeHeadOfNode = ServerResponse.prototype.writeHead as NodeWriteHead;
  ServerResponse.prototype.writeHead = function writeHead(this: ServerResponse, statusCode: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown) {
    // Through the request: a pipelined response has no socket of its own until the one before it is done.
    const value = (this.req?.socket as { server?: WithServerHeader } | undefined)?.server?.[serverHeaderKey];
    if (value === undefined) return writeHeadOfNode.apply(this, arguments as unknown as unknown[]);
    const reason = typeof reasonOrHeaders === 'string' ? reasonOrHeaders : undefined;
    let headers = (reason === undefined ? reasonOrHeaders : maybeHeaders) as Headers;
    if (!this.hasHeader('server') && !names(headers, 'server')) {
      if (!headers) this.setHeader('server', value);
      else if (Array.isArray(headers)) headers = [...headers, 'server', value];
      else headers = { ...headers, server: value };
    }
    return reason === undefined ? writeHeadOfNode.call(this, statusCode, headers) : writeHeadOfNode.call(this, statusCode, reason, headers);
  } as ServerResponse['writeHead'];
}

function names(headers: Headers, name: string): boolean {
  if (!headers) return false;
  if (Array.isArray(headers)) {
    for (let index = 0; index < headers.length; index += 2) if (String(headers[index]).toLowerCase() === name) return true;
    return false;
  }
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return true;
  return false;
}
