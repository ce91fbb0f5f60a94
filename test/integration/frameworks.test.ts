// The example apps of each framework, served by the real CLI through each
// built-in kind on real sockets: routing, JSON bodies, a 10 MB upload, a
// streamed response, and an app error that answers 500, is logged, and leaves
// the worker serving. Then a bare fetch-style app, for what the fetch adapter
// itself does.
import http from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const TEN_MB = 10 * 1024 * 1024;

const frameworks: [name: string, appModule: string][] = [
  ['express', 'examples/express/app.cjs'],
  ['koa', 'examples/koa/app.js'],
  ['fastify', 'examples/fastify/app.js:build()'],
  ['hono', 'examples/hono/app.js'],
];

/** Every kind sends a streamed response as the app writes it. */
const kinds = [
  { kind: 'async', streams: true },
  { kind: 'sync', streams: true },
  { kind: 'thread', streams: true },
];

// NODE_ENV=production, as deployed: express, for one, logs errors in every environment but 'test'.
const serve = <T>(appModule: string, body: (url: string, corral: CorralProcess) => Promise<T>, kind = 'async') =>
  withCorral(
    ['-k', kind, '-w', '1', '-b', '127.0.0.1:0', appModule],
    async (corral) => {
      const [url] = await corral.ready();
      return body(url, corral);
    },
    { env: { NODE_ENV: 'production' } },
  );

interface Chunk {
  at: number;
  text: string;
}

/** GETs `path` and records each chunk of the body with the time it arrived. */
function chunksOf(url: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; chunks: Chunk[] }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: hostname, port: Number(port), path, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Chunk[] = [];
      res.setEncoding('utf8');
      res.on('data', (text: string) => chunks.push({ at: performance.now(), text }));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, chunks }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

for (const [name, appModule] of frameworks) for (const { kind, streams } of kinds) {
  test(`${name} on -k ${kind}: routing, JSON, a 10 MB upload, a streamed response, and an app error`, async () => {
    await serve(appModule, async (url, corral) => {
      const home = await request(url);
      assert.is(home.status, 200);
      assert.match(String(home.headers['content-type']), /application\/json/);
      const { framework, pid } = json(home.body);
      assert.is(framework, name);
      assert.is(pid, corral.workerPids()[0]);

      assert.equal(json((await request(url, { path: '/users/42' })).body), { id: '42' });
      assert.is((await request(url, { path: '/no/such/route' })).status, 404);

      const payload = { name: 'corral', tags: ['pre-fork', 'http'], nested: { workers: 4, ok: true } };
      const echoed = await request(url, {
        path: '/echo',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      assert.is(echoed.status, 200);
      assert.equal(json(echoed.body), payload);

      const upload = await request(url, {
        path: '/upload',
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: 'x'.repeat(TEN_MB),
        timeoutMs: 30_000,
      });
      assert.is(upload.status, 200);
      assert.equal(json(upload.body), { bytes: TEN_MB });

      // Five chunks written 50 ms apart: the first arrives well before the last, not all at the end.
      const streamed = await chunksOf(url, '/stream');
      assert.is(streamed.status, 200);
      assert.is(streamed.chunks.map((chunk) => chunk.text).join(''), 'chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n');
      if (streams) {
        assert.ok(streamed.chunks.length >= 3, `the body came in ${streamed.chunks.length} chunk(s)`);
        const spread = streamed.chunks.at(-1)!.at - streamed.chunks[0].at;
        assert.ok(spread >= 100, `chunks arrived within ${spread.toFixed(0)} ms of each other`);
      }

      const boom = await request(url, { path: '/boom' });
      assert.is(boom.status, 500);
      await corral.waitForLine(new RegExp(`boom from ${name}`));
      const after = await request(url);
      assert.is(after.status, 200);
      assert.is(json(after.body).pid, pid, 'the same worker serves the next request');
      assert.equal(corral.workerPids(), [pid as number], 'no worker was replaced');
    }, kind);
  });
}

test('a bare fetch-style app: the Request the app sees, and the Response sent back', async () => {
  await serve(fixture('fetch-app.js'), async (url) => {
    const { port } = new URL(url);
    const seen = json((await request(url, { path: '/some/path?describe&q=1', headers: { 'x-test': 'yes' } })).body);
    assert.equal(seen, { url: `http://127.0.0.1:${port}/some/path?describe&q=1`, method: 'GET', host: `127.0.0.1:${port}`, test: 'yes' });
    // A path that looks like a protocol-relative URL stays a path on the requested host.
    assert.is(json((await request(url, { path: '//elsewhere.example/x?describe' })).body).url, `http://127.0.0.1:${port}//elsewhere.example/x?describe`);

    const small = await request(url);
    assert.is(small.body, 'hello from fetch\n');
    assert.is(small.headers['content-length'], '17', 'a body known at once is sent with its length');
    assert.is(small.headers['transfer-encoding'], undefined);

    const head = await request(url, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.body, '');

    const made = await request(url, { path: '/cookies' });
    assert.is(made.status, 201);
    assert.equal(made.headers['set-cookie'], ['a=1', 'b=2']);
    assert.is(made.headers['x-app'], 'fetch');

    const empty = await request(url, { path: '/empty' });
    assert.is(empty.status, 204);
    assert.is(empty.body, '');

    const body = 'y'.repeat(TEN_MB);
    const echoed = await request(url, { path: '/echo', method: 'POST', body, timeoutMs: 30_000 });
    assert.is(echoed.body.length, TEN_MB);
    assert.ok(echoed.body === body, 'the request body streamed back unchanged');

    const streamed = await chunksOf(url, '/stream');
    assert.is(streamed.headers['transfer-encoding'], 'chunked');
    assert.is(streamed.chunks.map((chunk) => chunk.text).join(''), 'chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\n');
    assert.ok(streamed.chunks.at(-1)!.at - streamed.chunks[0].at >= 100, 'chunks arrive as they are produced');

    // A Host header that would smuggle a path into the URL is refused.
    assert.is((await request(url, { path: '/?describe', headers: { host: 'evil.example/x?' } })).status, 400);
  });
});

test('a fetch-style app that throws or returns no Response: 500, logged, worker still up', async () => {
  await serve(fixture('fetch-app.js'), async (url, corral) => {
    const pid = (await request(url, { path: '/pid' })).body;

    const thrown = await request(url, { path: '/throw' });
    assert.is(thrown.status, 500);
    assert.is(thrown.body, 'Internal Server Error\n');
    await corral.waitForLine(/\[ERROR\] Error handling request GET \/throw: Error: fetch handler exploded/);

    assert.is((await request(url, { path: '/not-a-response' })).status, 500);
    await corral.waitForLine(/\[ERROR\] Error handling request GET \/not-a-response: TypeError: the app's fetch handler returned string, not a Response/);

    assert.is((await request(url, { path: '/pid' })).body, pid, 'the same worker serves the next request');
    assert.is(corral.workerPids().length, 1, 'no worker was replaced');
  });
});

test.run();
