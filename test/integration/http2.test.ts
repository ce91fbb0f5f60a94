// HTTP/2 through the real CLI (--http-protocols h2,h1): prior-knowledge h2c
// beside HTTP/1.1 on one listener, ALPN over TLS, curl as a real client, the
// request limits per stream, trusted proxies' headers and PROXY protocol, the
// access log, Early Hints, every app shape, and the sync kind's refusal.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeCertificates } from '../helpers/certificates.js';
import { fixture, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { connectHttp2, http2Get, requestOn } from '../helpers/http2-client.js';

const run = promisify(execFile);
const certs = makeCertificates();
const tmp = mkdtempSync(join(tmpdir(), 'corral-http2-'));
process.on('exit', () => {
  certs.remove();
  rmSync(tmp, { recursive: true, force: true });
});

const APP = fixture('h2-app.js');
const FETCH_APP = fixture('h2-fetch-app.mjs');
const h2 = (...more: string[]) => ['-b', '127.0.0.1:0', '--http-protocols', 'h2,h1', ...more];
const portOf = (url: string) => Number(new URL(url).port);
const json = (body: string) => JSON.parse(body) as Record<string, unknown> & { headers: Record<string, string> };

test('cleartext: a prior-knowledge h2c connection is served in HTTP/2, HTTP/1.1 on the same listener as before', async () => {
  const accessLog = join(tmp, 'access.log');
  await withCorral(h2('--access-logfile', accessLog, '--access-logformat', '%(h)s "%(r)s" %(s)s %(b)s %(H)s', APP), async (corral) => {
    const [url] = await corral.ready();
    const answer = await http2Get(url, '/echo?x=1', { body: 'sent over h2', headers: { 'x-test': 'yes' } });
    assert.is(answer.status, 200);
    const seen = json(answer.body);
    assert.is(seen.httpVersion, '2.0');
    assert.is(seen.method, 'POST');
    assert.is(seen.url, '/echo?x=1');
    assert.is(seen.body, 'sent over h2');
    assert.is(seen.headers['x-test'], 'yes');
    // RFC 9113 §8.3.1: an HTTP/1.1-shaped app reads Host; it is made from :authority.
    assert.is(seen.headers.host, new URL(url).host);
    assert.is(seen.remoteAddress, '127.0.0.1');

    const http1 = await request(url, { path: '/echo' });
    assert.is(json(http1.body).httpVersion, '1.1');

    // curl, a real client, with prior knowledge.
    const { stdout } = await run('curl', ['-s', '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${url}/pid`]);
    assert.is(stdout, '2 200');

    await waitUntil(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8').split('\n').length > 3, { what: 'three access-log lines' });
    const lines = readFileSync(accessLog, 'utf8').trim().split('\n');
    assert.ok(lines.includes(`127.0.0.1 "POST /echo?x=1 HTTP/2.0" 200 ${Buffer.byteLength(answer.body)} HTTP/2.0`), lines.join('\n'));
    assert.ok(lines.some((line) => line.startsWith('127.0.0.1 "GET /echo HTTP/1.1" 200')), lines.join('\n'));
    assert.ok(lines.some((line) => line.startsWith('127.0.0.1 "GET /pid HTTP/2.0" 200')), lines.join('\n'));
  });
});

test('without h2 in --http-protocols the h2c preface is no request corral serves (the default is unchanged)', async () => {
  await withCorral(['-b', '127.0.0.1:0', APP], async (corral) => {
    const [url] = await corral.ready();
    const refused = await http2Get(url, '/').then(
      () => 'served',
      (error: Error) => error.message,
    );
    assert.is.not(refused, 'served');
    const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_version}', `${url}/pid`]);
    assert.is(stdout, '1.1');
  });
});

test('TLS: ALPN offers h2 and http/1.1; each connection is served in what it negotiated', async () => {
  await withCorral(h2('--certfile', certs.server.certFile, '--keyfile', certs.server.keyFile, APP), async (corral) => {
    const [url] = await corral.ready();
    const answer = await http2Get(url, '/echo', { ca: certs.ca.cert });
    const seen = json(answer.body);
    assert.is(seen.httpVersion, '2.0');
    assert.is(seen.encrypted, true);
    const { stdout: overH2 } = await run('curl', ['-s', '--http2', '--cacert', certs.ca.certFile, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${url}/pid`]);
    assert.is(overH2, '2 200');
    const { stdout: overH1 } = await run('curl', ['-s', '--http1.1', '--cacert', certs.ca.certFile, '-w', ' %{http_version}', `${url}/echo`]);
    assert.match(overH1, /"httpVersion":"1\.1".* 1\.1$/);
  });
});

test('the request limits hold per stream: fields, field size, request line, `_` names, Host against :authority', async () => {
  await withCorral(h2('--limit-request-fields', '5', '--limit-request-field_size', '100', '--limit-request-line', '60', APP), async (corral) => {
    const [url] = await corral.ready();
    const session = await connectHttp2(url);
    try {
      const get = (path: string, headers: Record<string, string> = {}) => requestOn(session, { ':path': path, ...headers });
      const many = Object.fromEntries(Array.from({ length: 6 }, (_, index) => [`x-field-${index}`, 'v']));
      const tooMany = await get('/', many);
      assert.is(tooMany.status, 431);
      assert.match(tooMany.body, /--limit-request-fields/);
      const long = await get('/', { 'x-long': 'v'.repeat(100) });
      assert.is(long.status, 431);
      assert.match(long.body, /--limit-request-field_size/);
      const longPath = await get(`/${'p'.repeat(60)}`);
      assert.is(longPath.status, 414);
      const underscore = json((await get('/echo', { x_user: 'forged' })).body);
      assert.is(underscore.headers.x_user, undefined);
      const otherHost = await get('/', { ':authority': new URL(url).host, host: 'elsewhere.example' });
      assert.is(otherHost.status, 400);
      assert.match(otherHost.body, /Host header and :authority differ/);
      // The refusals are the stream's: the connection serves on.
      assert.is((await get('/pid')).status, 200);
    } finally {
      session.close();
    }
    assert.ok(corral.lines.some((line) => /Invalid request from 127\.0\.0\.1: 431/.test(line)), corral.output);
  });
});

test('a trusted proxy: X-Forwarded-For names the client; a PROXY protocol header before the h2c preface too', async () => {
  await withCorral(h2('--proxy-protocol', APP), async (corral) => {
    const [url] = await corral.ready();
    const forwarded = json((await http2Get(url, '/echo', { headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' } })).body);
    assert.is(forwarded.remoteAddress, '203.0.113.9');
    assert.is(forwarded.encrypted, true);

    // A PROXY v1 line, then the client's HTTP/2 connection on the same socket, as a load balancer relays it.
    const socket = net.connect(portOf(url), '127.0.0.1');
    socket.write('PROXY TCP4 198.51.100.7 127.0.0.1 4711 80\r\n');
    const relayed = http2.connect(url, { createConnection: () => socket });
    relayed.on('error', () => {});
    const seen = await requestOn(relayed, { ':path': '/echo' })
      .then((answer) => json(answer.body).remoteAddress)
      .finally(() => relayed.close());
    assert.is(seen, '198.51.100.7');
  });
});

test("a fetch-style app over HTTP/2: its URL from :authority, a body sent without Content-Length, the client", async () => {
  await withCorral(h2(FETCH_APP), async (corral) => {
    const [url] = await corral.ready();
    const answer = await http2Get(url, '/things?id=3', { body: 'streamed body', headers: { 'content-type': 'text/plain' } });
    assert.is(answer.status, 200);
    const seen = json(answer.body);
    assert.is(seen.url, `${url}/things?id=3`);
    assert.is(seen.body, 'streamed body');
    assert.is(seen.ip, '127.0.0.1');
    assert.is(seen.scheme, 'http');
    assert.is(seen.headers[':path'], undefined);
  });
});

test('Early Hints: a node-style app\'s res.writeEarlyHints reaches the HTTP/2 client as a 103 before the answer', async () => {
  await withCorral(h2(APP), async (corral) => {
    const [url] = await corral.ready();
    const answer = await http2Get(url, '/hints');
    assert.is(answer.status, 200);
    assert.is(answer.body, 'hinted');
    assert.is(answer.informational.length, 1);
    assert.is(answer.informational[0][':status'], 103);
    assert.is(answer.informational[0].link, '</style.css>; rel=preload; as=style');
  });
});

test('--max-requests counts streams: a worker that served its share over one HTTP/2 connection is replaced', async () => {
  await withCorral(h2('--max-requests', '5', APP), async (corral) => {
    const [url] = await corral.ready();
    const [first] = corral.workerPids();
    const session = await connectHttp2(url);
    try {
      for (let index = 0; index < 5; index += 1) assert.is((await requestOn(session, { ':path': '/pid' })).body, String(first));
    } finally {
      session.close();
    }
    await corral.waitForLine(/served 5 requests \(max 5\); asking to be replaced/);
    await waitUntil(() => corral.workerPids().length === 2, { what: 'a second worker booted' });
  });
});

test('--keep-alive: an HTTP/2 connection idle that long gets GOAWAY and is closed', async () => {
  await withCorral(h2('--keep-alive', '1', APP), async (corral) => {
    const [url] = await corral.ready();
    const session = await connectHttp2(url);
    await requestOn(session, { ':path': '/pid' });
    const started = Date.now();
    const goaway = await new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    assert.is(goaway, 0);
    assert.ok(Date.now() - started >= 800, `GOAWAY after ${Date.now() - started} ms`);
    await new Promise((resolve) => (session.closed ? resolve(undefined) : session.once('close', resolve)));
  });
});

test('--worker-connections counts connections, not streams: many streams on one connection, the next connection turned away', async () => {
  await withCorral(h2('--worker-connections', '1', APP), async (corral) => {
    const [url] = await corral.ready();
    const session = await connectHttp2(url);
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, () => requestOn(session, { ':path': '/slow?ms=100' })));
      assert.ok(answers.every((answer) => answer.body === 'slow done'));
      const second = await http2Get(url, '/pid').then(
        () => 'served',
        () => 'turned away',
      );
      assert.is(second, 'turned away');
    } finally {
      session.close();
    }
    await corral.waitForLine(/at --worker-connections 1/);
  });
});

test('metrics count HTTP/2 streams as requests; --request-timeout answers a stream 503 and the connection serves on', async () => {
  await withCorral(h2('--metrics-bind', '127.0.0.1:0', '--request-timeout', '0.5', APP), async (corral) => {
    const { match } = await corral.waitForLine(/Serving metrics at: (http:\/\/\S+)\/metrics/);
    const [url] = await corral.ready();
    const session = await connectHttp2(url);
    try {
      const [late, ...quick] = await Promise.all([requestOn(session, { ':path': '/slow?ms=3000' }), ...Array.from({ length: 5 }, () => requestOn(session, { ':path': '/pid' }))]);
      assert.is(late.status, 503);
      assert.match(late.body, /timed out/);
      assert.ok(quick.every((answer) => answer.status === 200));
      assert.is((await requestOn(session, { ':path': '/pid' })).status, 200);
    } finally {
      session.close();
    }
    const total = async () => Number(/^corral_requests_total (\d+)$/m.exec((await request(match[1], { path: '/metrics' })).body)?.[1]);
    await waitUntil(async () => (await total()) === 7, { what: 'seven requests in corral_requests_total', timeoutMs: 10_000 });
    await corral.waitForLine(/Request timed out after 0\.5 s: GET \/slow \(answered 503\)/);
  });
});

test('the thread kind over HTTP/2: the app in a pool thread sees the same request; body, streamed response, Early Hints, access log', async () => {
  const accessLog = join(tmp, 'thread-access.log');
  await withCorral(h2('-k', 'thread', '--threads', '2', '--access-logfile', accessLog, '--access-logformat', '"%(r)s" %(s)s %(b)s', APP), async (corral) => {
    const [url] = await corral.ready();
    const session = await connectHttp2(url);
    try {
      const echoed = await requestOn(session, { ':method': 'POST', ':path': '/echo', 'x-test': 'thread' }, { body: 'to a thread' });
      assert.is(echoed.status, 200);
      const seen = json(echoed.body);
      assert.is(seen.httpVersion, '2.0');
      assert.is(seen.body, 'to a thread');
      assert.is(seen.headers['x-test'], 'thread');
      assert.is(seen.headers.host, new URL(url).host);
      assert.is(seen.remoteAddress, '127.0.0.1');
      // No HTTP/1.x framing or connection fields leak into the HTTP/2 answer.
      assert.is(echoed.headers.connection, undefined);
      assert.is(echoed.headers['content-type'], 'application/json');
      const big = await requestOn(session, { ':path': '/big?bytes=3000000' }, { timeoutMs: 15_000 });
      assert.is(big.body.length, 3_000_000);
      const hinted = await requestOn(session, { ':path': '/hints' });
      assert.is(hinted.informational[0]?.[':status'], 103);
      assert.is(hinted.informational[0]?.link, '</style.css>; rel=preload; as=style');
      assert.is(hinted.body, 'hinted');
      const head = await requestOn(session, { ':method': 'HEAD', ':path': '/pid' });
      assert.is(head.body, '');
      // Fields HTTP/2 forbids in an answer are left out (node:http2 would throw on them), the rest kept.
      const [worker] = corral.workerPids();
      const hop = await requestOn(session, { ':path': '/hop' });
      assert.is(hop.status, 200);
      assert.is(hop.body, 'hop');
      assert.is(hop.headers.te, undefined);
      assert.is(hop.headers['x-kept'], 'yes');
      assert.equal(corral.liveWorkerPids(), [worker], 'the worker is none the worse');
    } finally {
      session.close();
    }
    await waitUntil(() => existsSync(accessLog) && readFileSync(accessLog, 'utf8').split('\n').length > 4, { what: 'four access-log lines' });
    const lines = readFileSync(accessLog, 'utf8').trim().split('\n');
    assert.ok(lines.includes('"GET /big?bytes=3000000 HTTP/2.0" 200 3000000'), lines.join('\n'));
  });
});

test('response trailers over HTTP/2: the thread kind sends the app\'s res.addTrailers as the async kind does, declared with a Trailer field or not, and never frames the body in chunks; a trailer HTTP/2 forbids is left out in both kinds, the worker unharmed', async () => {
  // What each kind's answers carry: the fields a client sees, not how they were framed.
  const answersOf = async (kind: string) =>
    withCorral(h2('-k', kind, ...(kind === 'thread' ? ['--threads', '2'] : []), APP), async (corral) => {
      const [url] = await corral.ready();
      const session = await connectHttp2(url);
      try {
        const answers = [];
        for (const path of ['/trailers', '/trailers?length']) {
          const answer = await requestOn(session, { ':path': path });
          answers.push({ path, status: answer.status, body: answer.body, declared: answer.headers.trailer, length: answer.headers['content-length'], trailers: { ...answer.trailers } });
        }
        // HTTP/1.1 on the same listener: chunked, the trailers after the last chunk.
        const http1 = await rawRequest(portOf(url), 'GET /trailers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        // The app's own Transfer-Encoding: chunked (node:http2 refuses it in the async kind, answering 500).
        const chunked = kind === 'thread' ? await requestOn(session, { ':path': '/trailers?te' }) : undefined;
        // A trailer HTTP/2 forbids (node:http2 throws on it, out of the request): left out, in both kinds.
        const [worker] = corral.liveWorkerPids();
        const forbidden = await requestOn(session, { ':path': '/trailers?forbidden' });
        // The worker is unharmed: the same one answers the next request on the connection.
        const after = await requestOn(session, { ':path': '/pid' });
        assert.is(after.body, String(worker), `${kind}: the worker that answered is still the one serving`);
        assert.equal(corral.liveWorkerPids(), [worker]);
        return { answers, http1Trailers: /\r\n0\r\n([\s\S]*)\r\n\r\n$/.exec(http1)?.[1], chunked, forbidden };
      } finally {
        session.close();
      }
    });
  const async = await answersOf('async');
  const thread = await answersOf('thread');
  for (const answer of async.answers) {
    assert.is(answer.status, 200, answer.path);
    assert.is(answer.body, 'first last', answer.path);
    assert.is(answer.declared, 'x-checksum, x-multi', answer.path);
    assert.equal(answer.trailers, { 'x-checksum': 'sha256=abc', 'x-multi': 'one, two' }, answer.path);
  }
  assert.is(async.answers[1].length, '10');
  assert.equal(thread.answers, async.answers);
  assert.is(thread.http1Trailers, 'X-Checksum: sha256=abc\r\nx-multi: one\r\nx-multi: two');
  assert.is(thread.http1Trailers, async.http1Trailers);
  // HTTP/2 frames the body itself: no chunk framing reaches the client as body bytes, and the trailers still come.
  assert.is(thread.chunked?.status, 200);
  assert.is(thread.chunked?.body, 'first last');
  assert.is(thread.chunked?.headers['transfer-encoding'], undefined);
  assert.equal({ ...thread.chunked?.trailers }, { 'x-checksum': 'sha256=abc', 'x-multi': 'one, two' });
  for (const { forbidden } of [async, thread]) {
    assert.is(forbidden.body, 'first last');
    assert.equal({ ...forbidden.trailers }, { 'x-checksum': 'sha256=abc', 'x-multi': 'one, two' });
  }
});

/** One request's whole answer, as bytes, on a connection the server closes. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write(text));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('no whole answer within 5 s')), 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

test('the sync kind serves HTTP/1.x only, and says so at boot when asked for h2', async () => {
  await withCorral(h2('-k', 'sync', fixture('sync-app.js')), async (corral) => {
    const [url] = await corral.ready();
    await corral.waitForLine(/the sync kind serves HTTP\/1\.x only/);
    const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_version}', `${url}/`]);
    assert.is(stdout, '1.1');
  });
});

test.run();
