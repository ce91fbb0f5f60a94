// HTTP/2 across a worker's life, through the real CLI: a drain sends GOAWAY and
// lets in-flight streams finish, a rolling reload under HTTP/2 load loses no
// stream, and express, koa and fastify apps run unchanged over HTTP/2.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeCertificates } from '../helpers/certificates.js';
import { fixture, isAlive, waitUntil, withCorral } from '../helpers/corral-process.js';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { PREFACE, connectHttp2, http2Get, requestOn, settingsFrame, startHttp2Load } from '../helpers/http2-client.js';

const certs = makeCertificates();
const tmp = mkdtempSync(join(tmpdir(), 'corral-http2-life-'));
process.on('exit', () => {
  certs.remove();
  rmSync(tmp, { recursive: true, force: true });
});
const h2 = (...more: string[]) => ['-b', '127.0.0.1:0', '--http-protocols', 'h2,h1', ...more];
const writeApp = (version: string) => writeFileSync(join(tmp, 'app.mjs'), `export default (req, res) => res.end(${JSON.stringify(version)});\n`);

test('a drain sends GOAWAY: the stream in flight finishes, the connection then closes, the worker exits', async () => {
  await withCorral(h2('--graceful-timeout', '20', fixture('h2-app.js')), async (corral) => {
    const [url] = await corral.ready();
    const [worker] = corral.workerPids();
    const session = await connectHttp2(url);
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    const closed = new Promise((resolve) => session.once('close', resolve));
    // The stream has reached the app (its head is back) before the drain starts.
    let reachedApp!: () => void;
    const inApp = new Promise<void>((resolve) => (reachedApp = resolve));
    const slow = requestOn(session, { ':path': '/slow?ms=1500&head' }, { onResponse: reachedApp });
    await inApp;
    corral.signal('SIGTERM');
    assert.is(await goaway, 0, 'GOAWAY with NO_ERROR');
    const answer = await slow;
    assert.is(answer.status, 200);
    assert.is(answer.body, 'slow done');
    await closed;
    await corral.waitForExit(10_000);
    assert.not.ok(isAlive(worker));
  });
});

test('a connection whose HTTP/2 preface comes while its worker drains is closed; the worker finishes its requests and exits cleanly', async () => {
  await withCorral(h2('--graceful-timeout', '20', fixture('h2-app.js')), async (corral) => {
    const [url] = await corral.ready();
    const [worker] = corral.workerPids();
    const port = Number(new URL(url).port);
    const session = await connectHttp2(url);
    const goaway = new Promise((resolve) => session.once('goaway', resolve));
    const slow = requestOn(session, { ':path': '/slow?ms=2500' });
    // A connection the worker has accepted (the kernel says which process holds it) but that has not spoken yet.
    const late = net.connect(port, '127.0.0.1');
    late.on('error', () => {});
    await new Promise((resolve) => late.once('connect', resolve));
    const held = () => execFileSync('ss', ['-tnpH', 'state', 'established', `( sport = :${port} and dport = :${late.localPort} )`], { encoding: 'utf8' });
    await waitUntil(() => held().includes(`pid=${worker},`), { what: 'the worker to accept the silent connection' });
    corral.signal('SIGTERM');
    await goaway;
    late.write(Buffer.concat([PREFACE, settingsFrame()]));
    const answer = await slow;
    assert.is(answer.status, 200);
    assert.is(answer.body, 'slow done');
    const exit = await corral.waitForExit(15_000);
    assert.is(exit.code, 0);
    assert.not.match(corral.output, /ReferenceError|Worker \(pid:\d+\) (exited with code|was terminated)|CRASHED/);
    late.destroy();
  });
});

test('HUP under HTTP/2 load: new code is served, old workers leave, no stream is lost', async () => {
  writeApp('v1');
  await withCorral(['-w', '2', ...h2('app.mjs')], async (corral) => {
    const [url] = await corral.ready();
    const oldWorkers = corral.workerPids();
    const load = startHttp2Load(url, { clients: 4, streams: 4 });
    await waitUntil(() => load.result.ok > 300, { what: 'load to be flowing' });
    writeApp('v2');
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    await corral.waitForLine(/\[INFO\] Reload complete: generation 2 serving/, { from, timeoutMs: 15_000 });
    await waitUntil(() => oldWorkers.every((pid) => !isAlive(pid)), { timeoutMs: 10_000, what: 'old workers to exit' });
    const seenV2 = load.result.bodies.get('v2') ?? 0;
    await waitUntil(() => (load.result.bodies.get('v2') ?? 0) > seenV2 + 300, { what: 'more v2 responses' });
    const result = await load.stop();
    assert.equal(result.failures, [], `${result.failures.length} of ${result.sent} failed`);
    assert.ok((result.bodies.get('v1') ?? 0) > 0 && (result.bodies.get('v2') ?? 0) > 0);
    // The old workers' connections were ended by GOAWAY and replaced by the client.
    assert.ok(result.sessions > 4, `${result.sessions} connections`);
    assert.is((await http2Get(url, '/')).body, 'v2');
  }, { cwd: tmp });
});

for (const [name, scheme] of [
  ['cleartext (h2c)', 'http'],
  ['TLS (ALPN h2)', 'https'],
] as const) {
  test(`express, koa and fastify apps over HTTP/2, ${name}: the client and the scheme as each framework reports them`, async () => {
    const tls = scheme === 'https' ? ['--certfile', certs.server.certFile, '--keyfile', certs.server.keyFile] : [];
    const ask = async (app: string, paths: string[]) =>
      withCorral(h2(...tls, fixture(app)), async (corral) => {
        const [url] = await corral.ready();
        const session = await connectHttp2(url, scheme === 'https' ? { ca: certs.ca.cert } : {});
        try {
          return await Promise.all(paths.map(async (path) => JSON.parse((await requestOn(session, { ':path': path })).body) as Record<string, unknown>));
        } finally {
          session.close();
        }
      });
    // express swaps the request's prototype: exported itself, corral carries HTTP/2 requests through that.
    const seen = [...(await ask('proxy-express.mjs', ['/who'])), ...(await ask('proxy-apps.mjs', ['/koa/who', '/fastify/who']))];
    assert.equal(
      seen.map(({ framework, ip, protocol }) => ({ framework, ip, protocol })),
      ['express', 'koa', 'fastify'].map((framework) => ({ framework, ip: '127.0.0.1', protocol: scheme })),
    );
  });
}

test('limitation: an express app called from inside another handler fails on HTTP/2 requests (its worker is replaced, as for any uncaught exception)', async () => {
  await withCorral(h2(fixture('proxy-apps.mjs')), async (corral) => {
    const [url] = await corral.ready();
    const session = await connectHttp2(url);
    try {
      const outcome = await requestOn(session, { ':path': '/express/who' }, { timeoutMs: 2000 }).then(
        (answer) => `status ${answer.status}`,
        (error: Error) => error.message,
      );
      // express's prototype swap leaves node:http2's request without its own methods (method, url, headers…).
      assert.is.not(outcome, 'status 200');
    } finally {
      session.close();
    }
    await corral.waitForLine(/Uncaught exception in worker/);
    await waitUntil(async () => (await http2Get(url, '/koa/who').catch(() => ({ status: 0 }))).status === 200, { what: 'koa served again', timeoutMs: 10_000 });
  });
});

test('express over HTTP/2: body parsing, status, redirect, ETag and 304, a mounted sub-app, its final 404', async () => {
  await withCorral(h2(fixture('h2-express.mjs')), async (corral) => {
    const [url] = await corral.ready();
    const { host, hostname } = new URL(url);
    const session = await connectHttp2(url);
    try {
      const posted = await requestOn(session, { ':method': 'POST', ':path': '/json', 'content-type': 'application/json' }, { body: '{"a":1}' });
      assert.is(posted.status, 201);
      assert.equal(JSON.parse(posted.body), { got: { a: 1 }, type: 'application/json' });
      const redirect = await requestOn(session, { ':path': '/redirect' });
      assert.is(redirect.status, 302);
      assert.is(redirect.headers.location, '/elsewhere');
      const first = await requestOn(session, { ':path': '/etag' });
      assert.is(first.body, 'same body every time');
      const again = await requestOn(session, { ':path': '/etag', 'if-none-match': String(first.headers.etag) });
      assert.is(again.status, 304);
      const where = await requestOn(session, { ':path': '/sub/where' });
      assert.equal(JSON.parse(where.body), { baseUrl: '/sub', path: '/where', hostname });
      const query = await requestOn(session, { ':path': '/query?a=1&b=2' });
      assert.equal(JSON.parse(query.body), { query: { a: '1', b: '2' }, hostname, protocol: 'http', ip: '127.0.0.1' });
      const missing = await requestOn(session, { ':path': '/nowhere' });
      assert.is(missing.status, 404);
      assert.match(missing.body, /Cannot GET \/nowhere/);
    } finally {
      session.close();
    }
    assert.not.ok(corral.lines.some((line) => /ERROR/.test(line)), corral.output);
    void host;
  });
});

test.run();
