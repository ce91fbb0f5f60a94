// A hono app: `corral examples/hono/app.js`. Hono apps are fetch-style
// ({ fetch(request) }); corral turns node's request into a Request and streams
// the Response back. No @hono/node-server needed.
import { Hono } from 'hono';
import { stream } from 'hono/streaming';

const app = new Hono();

app.get('/', (c) => c.json({ framework: 'hono', pid: process.pid }));

app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));

app.post('/echo', async (c) => c.json(await c.req.json()));

app.get('/stream', (c) => {
  c.header('content-type', 'text/plain');
  return stream(c, async (out) => {
    for (let index = 1; index <= 5; index += 1) {
      await out.write(`chunk ${index}\n`);
      await out.sleep(50);
    }
  });
});

// Counts the body as it streams in, without holding it in memory.
app.post('/upload', async (c) => {
  let bytes = 0;
  if (c.req.raw.body) for await (const chunk of c.req.raw.body) bytes += chunk.byteLength;
  return c.json({ bytes });
});

// hono answers 500 itself (its default onError) and logs the error to stderr.
app.get('/boom', () => {
  throw new Error('boom from hono');
});

export default app;
