// The one place that decides what kind of app a user handed us.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppLoadError } from '../errors.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

export function recogniseApp(app: unknown, name: string): NodeHandler {
  if (typeof app === 'function') return app as NodeHandler;
  // koa: an object whose callback() returns a node handler.
  if (app && typeof (app as { callback?: unknown }).callback === 'function') {
    return (app as { callback(): NodeHandler }).callback();
  }
  const shape = app === null ? 'null' : typeof app;
  throw new AppLoadError(
    'CORRAL_ERR_APP_SHAPE',
    `App '${name}' is ${shape === 'object' ? 'an object without callback()' : shape}; ` +
      'export a node-style (req, res) handler such as an express or connect app, or a koa app.',
  );
}
