// Telling app shapes apart: each framework's app, bare functions, factories,
// CommonJS and ES modules, and the error for something that is not an app.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { loadApp } from '../../src/app/load-app.js';
import { type NodeHandler, type RecognisedApp, recogniseApp } from '../../src/app/recognise-app.js';
import { AppLoadError } from '../../src/errors.js';

const FIXTURES = dirname(fixture('app.js'));

/** Serves one GET with a node handler on a real socket and returns the body. */
async function bodyFromNode(handler: NodeHandler, path = '/'): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return (await request(`http://127.0.0.1:${port}`, { path })).body;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

async function bodyFrom(app: RecognisedApp, path = '/'): Promise<string> {
  if (app.shape === 'node') return bodyFromNode(app.handler, path);
  return (await app.fetch(new Request(`http://localhost${path}`), { client: { address: '127.0.0.1', port: 1, scheme: 'http' } })).text();
}

async function shapeError(app: unknown): Promise<AppLoadError> {
  const error = await recogniseApp(app, 'app:default').then(
    () => undefined,
    (failure: unknown) => failure,
  );
  assert.instance(error, AppLoadError, `${String(app)} was accepted as an app`);
  return error as AppLoadError;
}

test('a (req, res) function is a node handler, served as it is', async () => {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => res.end('plain');
  const app = await recogniseApp(handler, 'app:default');
  assert.is(app.shape, 'node');
  assert.is(app.origin, 'node handler');
  assert.is(app.name, 'app:default');
  assert.is(app.shape === 'node' && app.handler, handler);
});

test('an express app (req, res, next) is a node handler', async () => {
  const server = express();
  server.get('/users/:id', (req, res) => {
    res.send(`user ${req.params.id}`);
  });
  const app = await recogniseApp(server, 'express');
  assert.is(app.shape, 'node');
  assert.is(await bodyFrom(app, '/users/7'), 'user 7');
});

test('a function declaring one parameter is fetch-style', async () => {
  const app = await recogniseApp((request: Request) => new Response(`fetched ${new URL(request.url).pathname}`), 'fn');
  assert.is(app.shape, 'fetch');
  assert.is(app.origin, '(Request) => Response function');
  assert.is(await bodyFrom(app, '/here'), 'fetched /here');
});

test('a { fetch } object is fetch-style, and fetch keeps its `this`', async () => {
  const exported = {
    greeting: 'bound',
    fetch(this: { greeting: string }) {
      return new Response(this.greeting);
    },
  };
  const app = await recogniseApp(exported, 'object');
  assert.is(app.origin, '{ fetch } object');
  assert.is(await bodyFrom(app), 'bound');
});

test('{ fetch } overrides the parameter count: a fetch handler taking (request, env) is served fetch-style', async () => {
  const handler = (request: Request, env?: unknown) => new Response(`env ${typeof env}`);
  assert.is((await recogniseApp(handler, 'two params')).shape, 'node');
  const app = await recogniseApp({ fetch: handler }, 'override');
  assert.is(app.shape, 'fetch');
  assert.is(await bodyFrom(app), 'env object');
});

test('a hono app is fetch-style', async () => {
  const hono = new Hono();
  hono.get('/users/:id', (c) => c.text(`hono user ${c.req.param('id')}`));
  const app = await recogniseApp(hono, 'hono');
  assert.is(app.shape, 'fetch');
  assert.is(await bodyFrom(app, '/users/3'), 'hono user 3');
});

test('a koa app is served through callback()', async () => {
  const koa = new Koa();
  koa.use((ctx) => {
    ctx.body = `koa ${ctx.path}`;
  });
  const app = await recogniseApp(koa, 'koa');
  assert.is(app.shape, 'node');
  assert.is(app.origin, 'koa app');
  assert.is(await bodyFrom(app, '/k'), 'koa /k');
});

test('a fastify instance is made ready, then served through fastify.routing', async () => {
  const fastify = Fastify();
  let ready = false;
  fastify.addHook('onReady', async () => {
    ready = true;
  });
  fastify.register(async (instance) => {
    instance.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  });
  const app = await recogniseApp(fastify, 'fastify');
  assert.ok(ready, 'onReady hooks ran before serving');
  assert.is(app.shape, 'node');
  assert.is(app.origin, 'fastify instance');
  assert.is(await bodyFrom(app, '/users/9'), '{"id":"9"}');
  await fastify.close();
});

test('a fastify instance whose plugin fails is an AppLoadError naming the cause', async () => {
  const fastify = Fastify();
  fastify.register(async () => {
    throw new Error('no database');
  });
  try {
    await recogniseApp(fastify, 'broken:build()');
    assert.unreachable('a broken fastify app was accepted');
  } catch (error) {
    assert.instance(error, AppLoadError);
    assert.is((error as AppLoadError).code, 'CORRAL_ERR_APP_IMPORT');
    assert.match((error as Error).message, /broken:build\(\)' \(a fastify instance\) failed to become ready: no database/);
  }
});

test('an upgrade handler: an `upgrade` method on any shape, or the upgrade listeners of fastify.server', async () => {
  const calls: string[] = [];
  const handler = Object.assign((_req: unknown, res: http.ServerResponse) => res.end(), {
    upgrade(this: unknown, req: http.IncomingMessage) {
      calls.push(`node ${req.url} ${this === handler}`);
    },
  });
  const koa = Object.assign(new Koa(), { upgrade: (req: http.IncomingMessage) => calls.push(`koa ${req.url}`) });
  const fetchApp = { fetch: () => new Response('x'), upgrade: (req: http.IncomingMessage) => calls.push(`fetch ${req.url}`) };
  const fastify = Fastify();
  fastify.server.on('upgrade', (req: http.IncomingMessage) => calls.push(`fastify ${req.url}`));
  const fake = (url: string) => ({ url }) as http.IncomingMessage;
  for (const [app, url] of [[handler, '/a'], [koa, '/b'], [fetchApp, '/c'], [fastify, '/d']] as const) {
    const recognised = await recogniseApp(app, 'app');
    assert.type(recognised.upgrade, 'function', url);
    recognised.upgrade!(fake(url), null as never, Buffer.alloc(0));
  }
  assert.equal(calls, ['node /a true', 'koa /b', 'fetch /c', 'fastify /d']);
  assert.is((await recogniseApp(express(), 'express')).upgrade, undefined, 'none when the app names none');
  assert.is((await recogniseApp(Fastify(), 'fastify')).upgrade, undefined, 'a fastify server without upgrade listeners takes none');
  await fastify.close();
});

test('a promise of an app is awaited', async () => {
  const app = await recogniseApp(Promise.resolve((request: Request) => new Response(request.method)), 'promised');
  assert.is(app.shape, 'fetch');
  assert.is(await bodyFrom(app), 'GET');
});

test('something that is not an app: CORRAL_ERR_APP_SHAPE, saying what it is and which shapes are accepted', async () => {
  const error = await shapeError({ port: 8000 });
  assert.is(error.code, 'CORRAL_ERR_APP_SHAPE');
  assert.match(error.message, /App 'app:default' is an object with keys port, which corral cannot serve/);
  for (const shape of ['node-style \\(req, res\\) handler', '\\{ fetch \\} object', '\\(Request\\) => Response', 'koa app', 'fastify instance', 'module:factory\\(\\)']) {
    assert.match(error.message, new RegExp(shape));
  }
  assert.match((await shapeError(undefined)).message, /is undefined \(did the module or factory forget/);
  assert.match((await shapeError(null)).message, /is null,/);
  assert.match((await shapeError('app')).message, /is a string,/);
  assert.match((await shapeError(42)).message, /is a number,/);
});

test('CommonJS: module.exports as a node handler, and a { fetch } object', async () => {
  const node = await loadApp('shapes/node-handler.cjs', FIXTURES);
  assert.is(node.shape, 'node');
  assert.is(node.name, 'shapes/node-handler.cjs:default');
  assert.is(await bodyFrom(node), 'node handler from CommonJS');
  const fetchObject = await loadApp('shapes/fetch-object.cjs', FIXTURES);
  assert.is(fetchObject.shape, 'fetch');
  assert.is(await bodyFrom(fetchObject, '/p'), 'fetch object from CommonJS at /p');
});

test('CommonJS: a transpiled `export default` ({ __esModule, default }) serves its default', async () => {
  const app = await loadApp('shapes/transpiled.cjs', FIXTURES);
  assert.is(app.shape, 'node');
  assert.is(await bodyFrom(app), 'transpiled default export');
});

test('factories: a CommonJS factory with an argument, an async factory, a fastify factory', async () => {
  const fromCjs = await loadApp("shapes/factory.cjs:create('hello from a factory')", FIXTURES);
  assert.is(fromCjs.shape, 'fetch');
  assert.is(await bodyFrom(fromCjs), 'hello from a factory');
  const fromAsync = await loadApp('shapes/async-factory.mjs:create()', FIXTURES);
  assert.is(fromAsync.origin, 'koa app');
  assert.is(await bodyFrom(fromAsync), 'koa from an async factory');
  const fromFastify = await loadApp('shapes/fastify-factory.mjs:build()', FIXTURES);
  assert.is(fromFastify.origin, 'fastify instance');
  assert.is(await bodyFrom(fromFastify), '{"from":"fastify plugin"}');
});

test('an ES module whose default export is a promise of the app', async () => {
  const app = await loadApp('shapes/promise-export.mjs', FIXTURES);
  assert.is(app.shape, 'fetch');
  assert.is(await bodyFrom(app), 'promised GET');
});

test('a module exporting something else fails to load with CORRAL_ERR_APP_SHAPE', async () => {
  try {
    await loadApp('not-an-app.js', FIXTURES);
    assert.unreachable('not-an-app.js was accepted');
  } catch (error) {
    assert.is((error as AppLoadError).code, 'CORRAL_ERR_APP_SHAPE');
    assert.match((error as Error).message, /App 'not-an-app\.js:default' is an object with keys port/);
  }
});

test.run();
