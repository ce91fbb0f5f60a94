// One set of raw requests replayed on the async, sync and thread kinds through
// the real CLI, to an app that answers with what it was handed (request line,
// raw header and trailer lines, body length and hash, client). Every kind must
// show the app the same request; the async and thread kinds must also send the
// same response bytes (but for Date). The sync kind serves one request per
// connection, so of a pipeline it is compared on the first request only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, startCorral } from '../helpers/corral-process.js';
import { type Bytes, RawConnection, type RawResponse } from '../helpers/raw-http.js';

const NODE_APP = fixture('seen-node-app.js');
const FETCH_APP = fixture('seen-fetch-app.mjs');
const KINDS = ['async', 'sync', 'thread'] as const;
type Kind = (typeof KINDS)[number];

interface Case {
  name: string;
  parts: Bytes | Bytes[];
  /** Final responses the bytes produce on a kind that keeps connections open. */
  responses?: number;
  /** The method behind each response, where it matters (HEAD). */
  methods?: string[];
  /** HTTP/0.9: the answer is the body alone, then the close. */
  http09?: boolean;
}

const H = 'Host: example.test\r\n';
const get = (target: string, more = '') => `GET ${target} HTTP/1.1\r\n${H}${more}\r\n`;
const post = (target: string, body: Buffer | string, more = '') =>
  Buffer.concat([Buffer.from(`POST ${target} HTTP/1.1\r\n${H}Content-Length: ${Buffer.byteLength(body)}\r\n${more}\r\n`, 'latin1'), Buffer.from(body)]);
/** A body of `size` bytes that is not all one byte (so a hash tells a shifted or truncated one). */
const bytes = (size: number) => Buffer.from(Array.from({ length: size }, (_, index) => (index * 31 + (index >> 8)) & 0xff));
const chunked = (chunks: Buffer[], trailers = '', ext = '') =>
  Buffer.concat([...chunks.flatMap((chunk) => [Buffer.from(`${chunk.length.toString(16)}${ext}\r\n`), chunk, Buffer.from('\r\n')]), Buffer.from(`0\r\n${trailers}\r\n`, 'latin1')]);
const postChunked = (target: string, chunks: Buffer[], trailers = '', ext = '', more = '') =>
  Buffer.concat([Buffer.from(`POST ${target} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n${more}\r\n`, 'latin1'), chunked(chunks, trailers, ext)]);
const split = (data: Buffer | string, size: number): Buffer[] => {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const parts: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += size) parts.push(buffer.subarray(offset, offset + size));
  return parts;
};
const obsText = Buffer.from([0x80, 0xa9, 0xc3, 0xa9, 0xff]).toString('latin1');

const CASES: Case[] = [
  { name: 'a plain GET', parts: get('/') },
  { name: 'a query', parts: get('/search?q=a+b&x=%20&x=2') },
  { name: 'an odd but valid target with a fragment sign', parts: get('/a%2F..;b?x=%22#') },
  { name: 'every pchar', parts: get("/p/~user/!$&'()*+,;=:@-._?q=/?:@") },
  { name: 'double slashes', parts: get('//double//slash/') },
  { name: 'dot segments, not normalised', parts: get('/./a/../b/..') },
  { name: 'an empty query', parts: get('/?') },
  { name: 'percent-encoded UTF-8', parts: get('/%E2%82%AC/caf%C3%A9') },
  { name: 'a 4,000-character target', parts: get(`/long/${'x'.repeat(4000)}`) },
  { name: 'absolute-form', parts: get('http://example.test/abs?x=1') },
  { name: 'absolute-form with a port', parts: `GET http://example.test:8080/p HTTP/1.1\r\nHost: example.test:8080\r\n\r\n` },
  { name: 'OPTIONS *', parts: `OPTIONS * HTTP/1.1\r\n${H}\r\n` },
  { name: 'OPTIONS on a path', parts: `OPTIONS /opt HTTP/1.1\r\n${H}\r\n` },
  { name: 'HTTP/1.0 without Host', parts: 'GET /ten HTTP/1.0\r\n\r\n' },
  { name: 'HTTP/1.0 keep-alive', parts: 'GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' },
  { name: 'HTTP/1.0 POST', parts: 'POST /ten HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello' },
  { name: 'HTTP/0.9', parts: 'GET /nine\r\n', http09: true },
  { name: 'HEAD', parts: `HEAD / HTTP/1.1\r\n${H}\r\n`, methods: ['HEAD'] },
  { name: 'HEAD of a chunked answer', parts: `HEAD /?chunked HTTP/1.1\r\n${H}\r\n`, methods: ['HEAD'] },
  { name: 'PUT', parts: `PUT /r HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nput` },
  { name: 'PATCH', parts: `PATCH /r HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\npatch` },
  { name: 'DELETE', parts: `DELETE /r HTTP/1.1\r\n${H}\r\n` },
  { name: 'DELETE with a body', parts: `DELETE /r HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\ngone` },
  { name: 'POST, Content-Length 0', parts: post('/p', '') },
  ...[1, 1000, 16_384, 65_537, 300_000, 1_000_000].map((size) => ({ name: `POST of ${size} bytes`, parts: split(post('/p', bytes(size)), 256 * 1024) })),
  { name: 'Content-Length with leading zeros', parts: `POST /p HTTP/1.1\r\n${H}Content-Length: 005\r\n\r\nzeros` },
  { name: 'chunked, one chunk', parts: postChunked('/c', [bytes(10)]) },
  { name: 'chunked, many small chunks', parts: postChunked('/c', Array.from({ length: 40 }, (_, index) => bytes(index + 1))) },
  { name: 'chunked with extensions', parts: postChunked('/c', [bytes(5), bytes(7)], '', ';name=value') },
  { name: 'chunked with a trailer', parts: postChunked('/c', [bytes(100)], 'X-Checksum: abc\r\n') },
  { name: 'chunked with two trailers, one repeated', parts: postChunked('/c', [bytes(3)], 'X-T: 1\r\nX-Other: two\r\nx-t: 3\r\n') },
  { name: 'chunked, empty, with a trailer', parts: postChunked('/c', [], 'X-Only: trailer\r\n') },
  { name: 'chunked trailer with obs-text', parts: postChunked('/c', [bytes(2)], `X-Obs: ${obsText}\r\n`) },
  { name: 'chunked, 200 KB in 10 chunks', parts: split(postChunked('/c', Array.from({ length: 10 }, () => bytes(20_000))), 50_000) },
  { name: 'chunked, 1 MB in 64 KB chunks, with a trailer', parts: split(postChunked('/c', Array.from({ length: 16 }, () => bytes(65_536)), 'X-Done: yes\r\n'), 128 * 1024) },
  { name: 'a 6,000-byte header value', parts: get('/', `X-Long: ${'v'.repeat(6000)}\r\n`) },
  { name: '60 headers', parts: get('/', Array.from({ length: 60 }, (_, index) => `X-H${index}: ${index}\r\n`).join('')) },
  { name: 'repeated headers', parts: get('/', 'X-Rep: one\r\nAccept: text/html\r\nX-Rep: two\r\nCookie: a=1\r\nCookie: b=2\r\nAccept: */*\r\n') },
  { name: 'empty header values', parts: get('/', 'X-Empty:\r\nX-Empty-Too: \r\nX-After: ok\r\n') },
  { name: 'obs-text in a value', parts: get('/', `X-Obs: ${obsText}\r\n`) },
  { name: 'header names in odd cases', parts: `GET /case HTTP/1.1\r\nhOsT: example.test\r\nX-MiXeD: Yes\r\nCONTENT-TYPE: text/plain\r\n\r\n` },
  { name: 'a User-Agent', parts: get('/', 'User-Agent: differential/1.0\r\n') },
  { name: 'whitespace around a value', parts: get('/', 'X-Pad:    padded   \r\n') },
  { name: 'a tab inside a value', parts: get('/', 'X-Tab: a\tb\r\n') },
  { name: 'Host with an IPv6 literal', parts: 'GET /six HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n' },
  { name: 'Host with a port', parts: 'GET /port HTTP/1.1\r\nHost: example.test:8443\r\n\r\n' },
  { name: 'Connection: close', parts: get('/', 'Connection: close\r\n') },
  { name: 'a browser-like request', parts: get('/page', 'User-Agent: Mozilla/5.0\r\nAccept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-GB,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Mode: navigate\r\n') },
  { name: 'X-Forwarded-For from an untrusted peer', parts: get('/', 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n') },
  { name: 'Authorization', parts: get('/', 'Authorization: Basic dXNlcjpwYXNz\r\n') },
  { name: 'a long Cookie', parts: get('/', `Cookie: ${Array.from({ length: 40 }, (_, index) => `c${index}=${'v'.repeat(20)}`).join('; ')}\r\n`) },
  { name: 'a Content-Type with parameters', parts: post('/p', '{"a":1}', 'Content-Type: application/json; charset=utf-8\r\n') },
  { name: 'Expect: 100-continue', parts: post('/p', 'continued', 'Expect: 100-continue\r\n') },
  { name: 'a chunked answer with a trailer', parts: get('/?chunked') },
  { name: 'a chunked body with trailers, and a chunked answer', parts: postChunked('/?chunked', [bytes(33)], 'X-T: 1\r\n') },
  { name: 'the head in three writes', parts: split(get('/three', 'X-A: 1\r\n'), 15) },
  { name: 'the body in byte-sized writes', parts: [Buffer.from(`POST /drip HTTP/1.1\r\n${H}Content-Length: 6\r\n\r\n`), ...split('drip!!', 1)] },
  { name: 'pipeline: two GETs in one write', parts: get('/one') + get('/two'), responses: 2 },
  { name: 'pipeline: GET, POST with a body, GET', parts: Buffer.concat([Buffer.from(get('/one')), post('/two', bytes(5000)), Buffer.from(get('/three'))]), responses: 3 },
  { name: 'pipeline: chunked POST with a trailer, then GET', parts: Buffer.concat([postChunked('/one', [bytes(9)], 'X-T: t\r\n'), Buffer.from(get('/two'))]), responses: 2 },
  { name: 'pipeline: HEAD then GET', parts: `HEAD /h HTTP/1.1\r\n${H}\r\n${get('/g')}`, responses: 2, methods: ['HEAD', 'GET'] },
  { name: 'keep-alive: three requests in three writes', parts: [get('/k1'), get('/k2', 'X-Second: 2\r\n'), post('/k3', 'third')], responses: 3 },
  // node answers a keep-alive HTTP/1.0 request without a length by closing: the second is never served.
  { name: 'pipeline: HTTP/1.0 keep-alive then HTTP/1.1', parts: `GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n${get('/b')}` },
];

interface Seen {
  status: number;
  reason: string;
  /** Response header lines but Date, which differs from run to run. */
  headers: Array<[string, string]>;
  trailers: Array<[string, string]>;
  chunked: boolean;
  /** What the app said it saw; the client port is replaced by a mark of whether it was the client's. */
  app: unknown;
}

function normalise(body: string, clientPort: number): unknown {
  if (body === '') return '';
  try {
    const seen = JSON.parse(body) as { remotePort?: number; client?: { port?: number } };
    if (seen.remotePort !== undefined) seen.remotePort = seen.remotePort === clientPort ? ('the client port' as never) : seen.remotePort;
    if (seen.client?.port !== undefined) seen.client.port = seen.client.port === clientPort ? ('the client port' as never) : seen.client.port;
    return seen;
  } catch {
    return body;
  }
}

function summary(response: RawResponse, clientPort: number): Seen {
  return {
    status: response.status,
    reason: response.reason,
    headers: response.rawHeaders.filter(([name]) => name.toLowerCase() !== 'date'),
    trailers: response.rawTrailers,
    chunked: response.chunked,
    app: normalise(response.text, clientPort),
  };
}

/** Sends a case on a new connection and reads what a kind answers: at most `limit` responses. */
async function replay(port: number, one: Case, limit: number): Promise<Seen[]> {
  if (one.http09) {
    const conn = await RawConnection.open(port);
    try {
      await conn.writeAll(one.parts);
      await conn.waitForClose(5000);
      return [{ status: 0, reason: '', headers: [], trailers: [], chunked: false, app: normalise(conn.all().toString('latin1'), conn.socket.localPort!) }];
    } finally {
      conn.destroy();
    }
  }
  const conn = await RawConnection.open(port);
  try {
    const written = conn.writeAll(one.parts);
    const count = Math.min(limit, one.responses ?? 1);
    const seen: Seen[] = [];
    for (let index = 0; index < count; index += 1) {
      const response = await conn.readResponse({ head: one.methods?.[index] === 'HEAD', deadlineMs: 10_000 });
      seen.push(summary(response, conn.socket.localPort!));
    }
    await written;
    return seen;
  } finally {
    conn.destroy();
  }
}

/** Response header lines that depend on the kind's connection handling, not on the app. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive']);
const appOnly = (seen: Seen) => ({ status: seen.status, app: seen.app });
const withoutConnectionHeaders = (seen: Seen) => ({ ...seen, headers: seen.headers.filter(([name]) => !CONNECTION_HEADERS.has(name.toLowerCase())) });

async function startKinds(app: string, kinds: readonly Kind[]): Promise<{ ports: Map<Kind, number>; processes: CorralProcess[] }> {
  const processes = kinds.map((kind) => startCorral(['-k', kind, '-w', '1', ...(kind === 'thread' ? ['--threads', '2'] : []), '-b', '127.0.0.1:0', app]));
  const ports = new Map<Kind, number>();
  await Promise.all(
    processes.map(async (corral, index) => {
      const [url] = await corral.ready(20_000);
      ports.set(kinds[index], Number(new URL(url).port));
    }),
  );
  return { ports, processes };
}

test(`${CASES.length} raw requests: a node-style app sees the same thing on every kind, and async and thread answer the same`, async () => {
  assert.ok(CASES.length >= 60, `${CASES.length} cases`);
  const { ports, processes } = await startKinds(NODE_APP, KINDS);
  const failures: string[] = [];
  try {
    for (const one of CASES) {
      const seen = new Map<Kind, Seen[]>();
      for (const kind of KINDS) {
        try {
          // The sync kind answers one request per connection.
          seen.set(kind, await replay(ports.get(kind)!, one, kind === 'sync' ? 1 : Infinity));
        } catch (error) {
          seen.set(kind, [{ status: -1, reason: (error as Error).message, headers: [], trailers: [], chunked: false, app: null }]);
        }
      }
      const [async, sync, thread] = KINDS.map((kind) => seen.get(kind)!);
      const differs = (what: string, left: unknown, right: unknown) => {
        try {
          assert.equal(right, left);
        } catch {
          failures.push(`${one.name}: ${what}\n  async:  ${JSON.stringify(left)}\n  other:  ${JSON.stringify(right)}`);
        }
      };
      differs('thread vs async, every response', async.map(withoutConnectionHeaders), thread.map(withoutConnectionHeaders));
      differs('thread vs async, connection headers', async.map((one) => one.headers), thread.map((one) => one.headers));
      differs('sync vs async, what the app saw in the first request', appOnly(async[0]), appOnly(sync[0]));
    }
  } finally {
    await Promise.all(processes.map((corral) => corral.stop()));
  }
  const errors = processes.flatMap((corral) => corral.lines.filter((line) => /\[(ERROR|CRITICAL)\]/.test(line)));
  assert.is(failures.length, 0, `${failures.length} case(s) differ:\n${failures.join('\n')}\nerrors logged:\n${errors.join('\n')}`);
});

const FETCH_CASES = CASES.filter((one) => !one.http09 && !one.methods && one.name !== 'OPTIONS *');

test(`${FETCH_CASES.length} raw requests: a fetch-style app gets the same Request on the async and thread kinds`, async () => {
  const kinds = ['async', 'thread'] as const;
  const { ports, processes } = await startKinds(FETCH_APP, kinds);
  const failures: string[] = [];
  try {
    for (const one of FETCH_CASES) {
      const [async, thread] = await Promise.all(kinds.map((kind) => replay(ports.get(kind)!, one, Infinity).catch((error: Error) => error.message)));
      try {
        assert.equal(thread, async);
      } catch {
        failures.push(`${one.name}\n  async:  ${JSON.stringify(async)}\n  thread: ${JSON.stringify(thread)}`);
      }
    }
  } finally {
    await Promise.all(processes.map((corral) => corral.stop()));
  }
  assert.is(failures.length, 0, `${failures.length} case(s) differ:\n${failures.join('\n')}`);
});

test.run();
