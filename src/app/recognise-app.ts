// The one place that decides what kind of app a user handed us. The rules, in
// the order they are tried:
//   1. a transpiled ES module ({ __esModule, default }) → its default export
//   2. an object with fetch() (hono, itty-router, `export default { fetch }`) → fetch-style.
//      First, because it is the explicit choice, and because itty's router answers
//      every other property name with a function.
//   3. a fastify instance (routing + ready + register) → awaited ready(), then served by
//      fastify.routing, the request listener fastify's own server uses
//   4. an object with callback() (koa) → the node handler callback() returns
//   5. a promise → awaited, then the rules above
//   6. a function declaring exactly one parameter → fetch-style (Request) => Response
//   7. any other function → node-style (req, res), e.g. express or connect (req, res, next)
// A bare function is told apart only by how many parameters it declares; to
// serve a fetch handler that declares more, export it as `{ fetch }`.
import { AppLoadError, describeError } from '../errors.js';
import type { AppOrigin, FetchHandler, NodeHandler, RecognisedApp } from './app-shape.js';
import { LISTEN_HINT } from './listen-hint.js';
import { upgradeHandlerOf } from './upgrade-handler.js';

export type { AppOrigin, AppShape, FetchContext, FetchHandler, NodeHandler, RecognisedApp, UpgradeHandler } from './app-shape.js';

export const ACCEPTED_SHAPES =
  'a node-style (req, res) handler (express, connect, polka\'s .handler, a plain function), ' +
  'a { fetch } object or a (Request) => Response function (hono, itty-router), a koa app, ' +
  'a fastify instance, or a promise of one; a factory returning one is called with module:factory()';

type Candidate = Record<PropertyKey, unknown>;

const hasMethod = (value: unknown, name: string): boolean =>
  (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as Candidate)[name] === 'function';

const isFastify = (app: unknown) => hasMethod(app, 'routing') && hasMethod(app, 'ready') && hasMethod(app, 'register');

const isTranspiledModule = (app: unknown) =>
  typeof app === 'object' && app !== null && (app as Candidate).__esModule === true && 'default' in app;

function describeValue(app: unknown): string {
  if (app === null) return 'null';
  if (app === undefined) return 'undefined (did the module or factory forget to export or return the app?)';
  if (typeof app !== 'object') return `a ${typeof app}`;
  const keys = Object.keys(app);
  return keys.length ? `an object with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}` : 'an empty object';
}

// `from` is the value the app was recognised in, which may also name an upgrade handler.
const node = (handler: NodeHandler, name: string, origin: AppOrigin, from: unknown): RecognisedApp => ({
  shape: 'node', handler, name, origin, upgrade: upgradeHandlerOf(from, origin === 'fastify instance'),
});
const fetchStyle = (fetch: FetchHandler, name: string, origin: AppOrigin, from: unknown): RecognisedApp => ({
  shape: 'fetch', fetch, name, origin, upgrade: upgradeHandlerOf(from, false),
});

async function readyFastify(app: Candidate, name: string): Promise<RecognisedApp> {
  try {
    await (app.ready as () => Promise<unknown>).call(app);
  } catch (error) {
    throw new AppLoadError('CORRAL_ERR_APP_IMPORT', `App '${name}' (a fastify instance) failed to become ready: ${describeError(error)}`, {
      cause: error,
    });
  }
  // routing is a closure over fastify's router, called unbound by fastify's own server too.
  return node(app.routing as NodeHandler, name, 'fastify instance', app);
}

/** Recognises `app` (named `name` in messages) or throws an AppLoadError saying which shapes are accepted. */
export async function recogniseApp(app: unknown, name: string): Promise<RecognisedApp> {
  if (isTranspiledModule(app)) return recogniseApp((app as Candidate).default, name);
  if (typeof app === 'object' && app !== null) {
    const candidate = app as Candidate;
    if (typeof candidate.fetch === 'function') return fetchStyle((candidate.fetch as FetchHandler).bind(app), name, '{ fetch } object', app);
    if (isFastify(app)) return readyFastify(candidate, name);
    if (typeof candidate.callback === 'function') return node((candidate.callback as () => NodeHandler).call(app), name, 'koa app', app);
    if (typeof candidate.then === 'function') return recogniseApp(await (app as PromiseLike<unknown>), name);
  }
  if (typeof app === 'function') {
    return app.length === 1
      ? fetchStyle(app as FetchHandler, name, '(Request) => Response function', app)
      : node(app as NodeHandler, name, 'node handler', app);
  }
  const empty = app === undefined || (typeof app === 'object' && app !== null && Object.keys(app).length === 0);
  throw new AppLoadError(
    'CORRAL_ERR_APP_SHAPE',
    `App '${name}' is ${describeValue(app)}, which corral cannot serve; export ${ACCEPTED_SHAPES}.${empty ? ` ${LISTEN_HINT}` : ''}`,
  );
}
