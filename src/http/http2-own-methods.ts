// Express (and apps built like it) gives every request and response its own
// prototype, which inherits from http.IncomingMessage and http.ServerResponse
// (`Object.setPrototypeOf(req, app.request)`): node:http2's compatibility
// request and response would lose their own methods and getters (method, url,
// headers, socket, writeHead, end…) and nothing would work. For such apps an
// HTTP/2 request and response carry those as own properties, which no
// prototype swap takes away; express's methods (req.get, res.json…) still come
// from its prototypes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IncomingMessage as NodeIncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { NodeHandler } from '../app/app-shape.js';
import { nodeBuiltin } from '../node-builtin.js';

type Descriptors = PropertyDescriptorMap;
let descriptors: { request: Descriptors; response: Descriptors } | undefined;

function ownDescriptors(prototype: object, extra: Descriptors = {}): Descriptors {
  const found: Descriptors = { ...extra };
  // Symbol-keyed ones too: node's internal methods (kSetHeader…) are on the prototype.
  for (const key of Reflect.ownKeys(prototype)) {
    if (key !== 'constructor') found[key as string] = { ...Object.getOwnPropertyDescriptor(prototype, key)!, configurable: true };
  }
  return found;
}

/** node:http2 loads only once an HTTP/2 request reaches such an app. */
function http2Descriptors() {
  if (descriptors) return descriptors;
  const http2 = nodeBuiltin<typeof import('node:http2')>('node:http2');
  descriptors = {
    // IncomingMessage's _destroy would destroy "the socket": on HTTP/2, the stream. Readable's is what the request had.
    request: ownDescriptors(http2.Http2ServerRequest.prototype, { _destroy: { value: Readable.prototype._destroy, configurable: true, writable: true } }),
    response: ownDescriptors(http2.Http2ServerResponse.prototype),
  };
  return descriptors;
}

/** An app that swaps the prototypes of the requests it is given for its own, built on IncomingMessage (express). */
export function swapsPrototypes(handler: NodeHandler): boolean {
  const request = (handler as { request?: unknown }).request;
  return typeof request === 'object' && request !== null && NodeIncomingMessage.prototype.isPrototypeOf(request);
}

/** The handler, with every HTTP/2 request and response keeping its own behaviour through a prototype swap. */
export function keepingHttp2Methods(handler: NodeHandler): NodeHandler {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.httpVersionMajor === 2) {
      const { request, response } = http2Descriptors();
      Object.defineProperties(req, request);
      Object.defineProperties(res, response);
    }
    return handler(req, res);
  };
}
