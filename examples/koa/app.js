// A koa app: `corral examples/koa/app.js`. corral serves it through app.callback().
import { Readable } from 'node:stream';
import Koa from 'koa';

const app = new Koa();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readText(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

async function* chunks() {
  for (let index = 1; index <= 5; index += 1) {
    yield `chunk ${index}\n`;
    await sleep(50);
  }
}

// koa has no router of its own; a table of patterns keeps this example free of plugins.
const routes = [
  ['GET', /^\/$/, (ctx) => (ctx.body = { framework: 'koa', pid: process.pid })],
  ['GET', /^\/users\/([^/]+)$/, (ctx, id) => (ctx.body = { id: decodeURIComponent(id) })],
  ['POST', /^\/echo$/, async (ctx) => (ctx.body = JSON.parse(await readText(ctx.req)))],
  [
    'GET',
    /^\/stream$/,
    (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = Readable.from(chunks());
    },
  ],
  [
    'POST',
    /^\/upload$/,
    async (ctx) => {
      let bytes = 0;
      for await (const chunk of ctx.req) bytes += chunk.length;
      ctx.body = { bytes };
    },
  ],
  // koa answers 500 itself and logs the error to stderr.
  [
    'GET',
    /^\/boom$/,
    () => {
      throw new Error('boom from koa');
    },
  ],
];

app.use(async (ctx) => {
  for (const [method, pattern, handle] of routes) {
    // HEAD is answered by the GET route; koa leaves the body out.
    const sameMethod = ctx.method === method || (ctx.method === 'HEAD' && method === 'GET');
    const match = sameMethod && pattern.exec(ctx.path);
    if (match) return handle(ctx, ...match.slice(1));
  }
  ctx.status = 404;
});

export default app;
