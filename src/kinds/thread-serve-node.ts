// Runs a node-style (req, res) app in a pool thread: light-my-request gives it
// an in-memory request and response, and collects what it writes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import inject from 'light-my-request';
import type { NodeHandler } from '../app/app-shape.js';
import type { RequestTask, ThreadResponse } from './thread-messages.js';
import { forEachRequestHeader } from './thread-request-headers.js';

// Framing that belonged to the in-memory response, not to the one the main thread will send.
const INJECTED_FRAMING = new Set(['connection', 'transfer-encoding', 'keep-alive']);

function requestHeaders(task: RequestTask): Record<string, string | string[] | undefined> {
  // Repeated headers stay arrays; light-my-request folds them the way node's server does.
  const headers: Record<string, string | string[] | undefined> = {};
  forEachRequestHeader(task, (name, value) => {
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[name] = [seen, value];
  });
  // Otherwise light-my-request makes one up.
  if (!('user-agent' in headers)) headers['user-agent'] = undefined;
  return headers;
}

function responseHeaders(headers: Record<string, unknown>): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || INJECTED_FRAMING.has(name)) continue;
    if (Array.isArray(value)) for (const item of value) flat.push(name, String(item));
    else flat.push(name, String(value));
  }
  return flat;
}

/** A copy only when the payload shares its memory with other buffers, so the result can be transferred. */
function ownArrayBuffer(payload: Buffer): ArrayBuffer | null {
  if (payload.byteLength === 0) return null;
  const { buffer, byteOffset, byteLength } = payload;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
  return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
}

/**
 * An express app swaps req and res for its own prototypes; light-my-request
 * recognises one (app.request.app === app) and moves its in-memory classes under
 * them, which it cannot do through a wrapper. express catches its handlers'
 * errors itself, so it needs no wrapper.
 */
const isExpressApp = (handler: NodeHandler) => (handler as { request?: { app?: unknown } }).request?.app === handler;

export async function serveNode(handler: NodeHandler, task: RequestTask): Promise<ThreadResponse> {
  // light-my-request turns a synchronous throw into a rejection, but not a rejected promise the handler returns.
  let rejectWith: (error: unknown) => void = () => {};
  const handlerRejected = new Promise<never>((_, reject) => (rejectWith = reject));
  const dispatch = isExpressApp(handler)
    ? handler
    : (req: IncomingMessage, res: ServerResponse) => {
        // light-my-request's socket carries the address only; koa and fastify read the scheme from `encrypted`.
        Object.assign(req.socket, { remotePort: task.remotePort, ...(task.secure ? { encrypted: true } : {}) });
        const result = handler(req, res);
        if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, rejectWith);
      };
  const response = await Promise.race([
    inject(dispatch, {
      method: task.method,
      url: task.url,
      headers: requestHeaders(task),
      payload: task.body ? Buffer.from(task.body) : undefined,
      remoteAddress: task.remoteAddress,
      validate: false,
    }),
    handlerRejected,
  ]);
  return {
    status: response.statusCode,
    statusText: response.statusMessage,
    headers: responseHeaders(response.headers),
    body: ownArrayBuffer(response.rawPayload),
  };
}
