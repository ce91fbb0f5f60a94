// A fastify app built by a factory: `corral 'examples/fastify/app.js:build()'`.
// corral awaits ready() and serves requests through fastify's own request
// listener (fastify.routing), so hooks, plugins and error handling all apply.
// corral's server owns the sockets, so fastify's own server options
// (connectionTimeout, keepAliveTimeout, https) do not apply: use corral's settings.
import { Readable } from 'node:stream';
import Fastify from 'fastify';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function* chunks() {
  for (let index = 1; index <= 5; index += 1) {
    yield `chunk ${index}\n`;
    await sleep(50);
  }
}

export function build() {
  // Errors only: fastify logs a 500's error as a JSON line on stdout.
  const app = Fastify({ logger: { level: 'error' } });

  // Hand binary bodies to the route as a stream instead of buffering them.
  app.addContentTypeParser('application/octet-stream', (request, payload, done) => done(null, payload));

  app.get('/', async () => ({ framework: 'fastify', pid: process.pid }));

  app.get('/users/:id', async (request) => ({ id: request.params.id }));

  app.post('/echo', async (request) => request.body);

  app.get('/stream', (request, reply) => reply.type('text/plain').send(Readable.from(chunks())));

  app.post('/upload', async (request) => {
    let bytes = 0;
    for await (const chunk of request.body) bytes += chunk.length;
    return { bytes };
  });

  app.get('/boom', async () => {
    throw new Error('boom from fastify');
  });

  return app;
}
