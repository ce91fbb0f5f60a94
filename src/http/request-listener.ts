// Turns a recognised app into the one request listener a kind installs: a
// node-style app as it is, a fetch-style app through the fetch adapter, both
// guarded so a failure answers 500, is logged, and leaves the worker up.
import type { NodeHandler, RecognisedApp } from '../app/app-shape.js';
import type { Logger } from '../log/logger.js';
import { fetchAdapter } from './fetch-adapter.js';
import { guardHandler } from './guard-handler.js';
import { keepingHttp2Methods, swapsPrototypes } from './http2-own-methods.js';

export function requestListenerFor(app: RecognisedApp, logger: Logger): NodeHandler {
  if (app.shape === 'fetch') return guardHandler(fetchAdapter(app.fetch), logger);
  // express: so that an HTTP/2 request survives its prototype swap (see http2-own-methods.ts).
  return guardHandler(swapsPrototypes(app.handler) ? keepingHttp2Methods(app.handler) : app.handler, logger);
}
