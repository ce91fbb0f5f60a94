// HTTP/1.1 conformance through the real CLI, on the wire: exact request bytes
// over TCP, responses read by a strict reader (test/helpers/raw-http.ts), the
// app echoing what reached it (test/fixtures/echo-app.js). Table-driven: each
// case names its RFC 9112 (or 9110) section, its bytes, the status(es) expected
// and whether the connection stays open. One corral per group of cases sharing
// flags; after every malformed case (and every few well-formed ones) the same
// worker must still be serving.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, startCorral } from '../helpers/corral-process.js';
import { type Bytes, type Exchange, PROBE, type RawResponse, RawConnection, exchange, parseResponse, preview, rawExchange } from '../helpers/raw-http.js';

// ---------------------------------------------------------------------------
// Request building

const H = 'Host: x';
/** A request: its line, its field lines, the empty line, then the body. */
const msg = (line: string, fields: string[] = [H], body = '') => `${line}\r\n${fields.map((field) => `${field}\r\n`).join('')}\r\n${body}`;
const get = (target = '/', fields: string[] = []) => msg(`GET ${target} HTTP/1.1`, [H, ...fields]);
const post = (target: string, fields: string[], body: string) => msg(`POST ${target} HTTP/1.1`, [H, ...fields], body);
const withLength = (method: string, target: string, body: string, fields: string[] = []) =>
  msg(`${method} ${target} HTTP/1.1`, [H, ...fields, `Content-Length: ${Buffer.byteLength(body, 'latin1')}`], body);
const chunked = (target: string, body: string, fields: string[] = []) => post(target, ['Transfer-Encoding: chunked', ...fields], body);
/** A request line of exactly `length` bytes (CRLF excluded). */
const requestLineOf = (length: number) => `GET /${'a'.repeat(length - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
/** A field line `X-Big: bbb…` of exactly `length` bytes (CRLF excluded). */
const fieldOf = (length: number) => `X-Big: ${'b'.repeat(length - 'X-Big: '.length)}`;
/** `count` field lines, Host included. */
const fieldsOf = (count: number) => [H, ...Array.from({ length: count - 1 }, (_, i) => `X-F${i}: v${i}`)];
/** Splits bytes into pieces of `size`, one write each. */
const pieces = (bytes: string, size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.slice(i * size, (i + 1) * size));

// ---------------------------------------------------------------------------
// What the echo app saw

interface Echo {
  method: string;
  url: string;
  httpVersion: string;
  headers: string[];
  trailers?: string[];
  body: string;
  remoteAddress?: string;
  encrypted: boolean;
  pid: number;
}

function echo(response: RawResponse): Echo {
  assert.is(response.headers['content-type'], 'application/json', `an echo answer: ${preview(response.body)}`);
  return JSON.parse(response.text) as Echo;
}

/** The values the app saw under `name` (any case), in order. */
const valuesOf = (flat: string[] = [], name: string) => {
  const values: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i].toLowerCase() === name.toLowerCase()) values.push(flat[i + 1]);
  return values;
};

interface Sees {
  method?: string;
  url?: string;
  httpVersion?: string;
  body?: string;
  bodyLength?: number;
  /** Per name, exactly the values the app must see under it, in order ([] = absent). */
  fields?: Record<string, string[]>;
  /** Exactly the app's rawTrailers. */
  trailers?: string[];
}

function checkEcho(seen: Echo, expected: Sees, label = '') {
  const at = label ? ` (${label})` : '';
  if (expected.method !== undefined) assert.is(seen.method, expected.method, `method${at}`);
  if (expected.url !== undefined) assert.is(seen.url, expected.url, `url${at}`);
  if (expected.httpVersion !== undefined) assert.is(seen.httpVersion, expected.httpVersion, `httpVersion${at}`);
  if (expected.body !== undefined) assert.is(seen.body, expected.body, `body${at}`);
  if (expected.bodyLength !== undefined) assert.is(seen.body.length, expected.bodyLength, `body length${at}`);
  for (const [name, values] of Object.entries(expected.fields ?? {})) {
    assert.equal(valuesOf(seen.headers, name), values, `the app's ${name} values${at}`);
  }
  if (expected.trailers !== undefined) assert.equal(seen.trailers, expected.trailers, `the app's rawTrailers${at}`);
}

/** Checks the first response's echo. */
const sees = (expected: Sees) => (responses: RawResponse[]) => checkEcho(echo(responses[0]), expected);
/** Checks each response's echo in turn. */
const seeEach = (...expected: Sees[]) => (responses: RawResponse[]) => expected.forEach((each, i) => checkEcho(echo(responses[i]), each, `response ${i + 1}`));

// ---------------------------------------------------------------------------
// Groups: one corral each

const REASON: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  414: 'URI Too Long',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;
const CLOSE_OPTION = /(^|,)[ \t]*close[ \t]*(,|$)/i;

interface Server {
  corral: CorralProcess;
  port: number;
  /** The worker serving at the start (updated after a failure, so one crash fails one case). */
  pid: string;
  workers: number;
}

interface GroupState {
  corral?: CorralProcess;
  server?: Server;
  startError?: string;
}

interface GroupOptions {
  kind?: 'async' | 'thread' | 'sync';
  flags?: string[];
  /** The fixture served; the echo app unless said. */
  app?: string;
  /** The Server header every response must carry; null: none. */
  serverHeader?: string | null;
  /** Where well-formed requests leave the connection unless a case says otherwise. */
  connection?: 'open' | 'closed';
}

interface Group {
  test: ReturnType<typeof suite<GroupState>>;
  options: Required<GroupOptions>;
  server(state: GroupState): Server;
}

async function currentPid(port: number): Promise<string> {
  const conn = await RawConnection.open(port);
  try {
    await conn.write(PROBE);
    // A crashed worker's replacement must boot first: a longer deadline than for an answer.
    const response = await conn.readResponse({ deadlineMs: 5000 });
    if (response.status !== 200 || !/^\d+$/.test(response.text)) throw new Error(`GET /pid answered ${response.status} ${preview(response.body)}`);
    return response.text;
  } finally {
    conn.destroy();
  }
}

function group(name: string, options: GroupOptions = {}): Group {
  const settings: Required<GroupOptions> = { kind: 'async', flags: [], app: 'echo-app.js', serverHeader: null, connection: 'open', ...options };
  const test = suite<GroupState>(name, {});
  test.before(async (state) => {
    const corral = startCorral(['-w', '1', '-k', settings.kind, '-b', '127.0.0.1:0', ...settings.flags, fixture(settings.app)]);
    state.corral = corral;
    try {
      const [url] = await corral.ready(15_000);
      const port = Number(new URL(url).port);
      state.server = { corral, port, pid: await currentPid(port), workers: corral.workerPids().length };
    } catch (error) {
      // A throwing before-hook would be swallowed by uvu: every case reports this instead.
      state.startError = (error as Error).message.slice(-2000);
    }
  });
  test.after(async (state) => {
    await state.corral?.stop();
  });
  return {
    test,
    options: settings,
    server(state) {
      if (!state.server) throw new Error(`corral ${settings.flags.join(' ')} (-k ${settings.kind}) did not start: ${state.startError}`);
      return state.server;
    },
  };
}

/** The worker that served the group so far still does, and none was booted in its place. */
async function assertSurvived(server: Server, after: string) {
  const pid = await currentPid(server.port).catch((error: Error) => `none (${error.message})`);
  const workers = server.corral.workerPids().length;
  const same = pid === server.pid && workers === server.workers;
  const before = `${server.pid} (${server.workers} booted)`;
  server.pid = pid;
  server.workers = workers;
  assert.ok(same, `the worker did not survive ${after}: GET /pid was answered by ${before}, now by ${pid} (${workers} booted)`);
}

function checkStandardHeaders(response: RawResponse, options: Required<GroupOptions>, label: string) {
  assert.match(response.headers.date ?? '', IMF_FIXDATE, `${label}: a Date header (IMF-fixdate), got ${JSON.stringify(response.headers.date)}`);
  if (options.serverHeader === null) assert.not.ok('server' in response.headers, `${label}: no Server header, got ${JSON.stringify(response.headers.server)}`);
  else assert.is(response.headers.server, options.serverHeader, `${label}: Server header`);
}

// ---------------------------------------------------------------------------
// Cases

interface Case {
  name: string;
  /** RFC 9112 unless another RFC is named. */
  rfc: string;
  send: Bytes | Bytes[];
  status: number | number[];
  /** Default: the group's (open, or closed for -k sync). */
  connection?: 'open' | 'closed';
  /** The method behind each response, where it decides whether there is a body. */
  methods?: string[];
  check?: (responses: RawResponse[]) => void;
}

const outcome = (exchanged: Exchange) => {
  const statuses = exchanged.responses.map((response) => response.status).join(', ');
  let connection: string;
  if (exchanged.closedByServer && exchanged.probeError) connection = `closed, after not answering the probe (${exchanged.probeError})`;
  else if (exchanged.closedByServer) connection = 'closed';
  else if (exchanged.probe) connection = exchanged.probe.status === 200 ? 'open' : `open, but the probe got ${exchanged.probe.status}`;
  else if (exchanged.probeError) connection = `open, but the probe was not answered (${exchanged.probeError})`;
  else connection = 'not closed within the deadline';
  const extra = exchanged.extra.length > 0 ? `, then more bytes: ${preview(exchanged.extra, 120)}` : '';
  return `${statuses} / ${connection}${extra}`;
};

async function runWellFormed(g: Group, server: Server, c: Case) {
  const statuses = [c.status].flat();
  const connection = c.connection ?? g.options.connection;
  const expected = `${statuses.join(', ')} / ${connection}`;
  const exchanged = await exchange(server.port, c.send, { expect: statuses.length, methods: c.methods, connection }).catch((error: Error) => {
    throw new Error(`expected ${expected}, got: ${error.message}`);
  });
  const ok =
    exchanged.responses.every((response, i) => response.status === statuses[i]) &&
    (connection === 'closed'
      ? exchanged.closedByServer && exchanged.extra.length === 0
      : !exchanged.closedByServer && exchanged.probe?.status === 200 && /^\d+$/.test(exchanged.probe.text));
  assert.ok(ok, `expected ${expected}, got ${outcome(exchanged)}`);
  exchanged.responses.forEach((response, i) => {
    checkStandardHeaders(response, g.options, `response ${i + 1}`);
    if (g.options.kind === 'sync') assert.match(response.headers.connection ?? '', CLOSE_OPTION, `response ${i + 1}: sync answers Connection: close`);
  });
  c.check?.(exchanged.responses);
}

async function runMalformed(g: Group, server: Server, c: Case) {
  const status = c.status as number;
  const expected = `${status} / closed`;
  let exchanged: Exchange | undefined;
  let failure: Error | undefined;
  try {
    exchanged = await exchange(server.port, c.send, { expect: 1, methods: c.methods, connection: 'closed' });
  } catch (error) {
    failure = error as Error;
  }
  // Whatever the answer, the worker must still be there.
  await assertSurvived(server, c.name);
  if (!exchanged) throw new Error(`expected ${expected}, got: ${failure!.message}`);
  const [response] = exchanged.responses;
  assert.ok(response.status === status && exchanged.closedByServer && exchanged.extra.length === 0, `expected ${expected}, got ${outcome(exchanged)}`);
  assert.match(response.headers.connection ?? '', CLOSE_OPTION, `Connection: close on the ${status}, got ${JSON.stringify(response.headers.connection)}`);
  assert.ok(response.text.startsWith(REASON[status]), `the body starts with "${REASON[status]}", got ${preview(response.body, 120)}`);
  checkStandardHeaders(response, g.options, `the ${status}`);
}

const counts = { wellFormed: 0, malformed: 0 };

/** Registers well-formed cases; every `every` cases (and after the last) the worker must have survived. */
function wellFormed(g: Group, cases: Case[], every = 10) {
  cases.forEach((c, i) => {
    counts.wellFormed += 1;
    g.test(`well-formed: ${c.name} [${c.rfc}]`, async (state) => {
      const server = g.server(state);
      await runWellFormed(g, server, c);
      if ((i + 1) % every === 0 || i === cases.length - 1) await assertSurvived(server, c.name);
    });
  });
}

function malformed(g: Group, cases: Case[]) {
  for (const c of cases) {
    counts.malformed += 1;
    g.test(`malformed: ${c.name} → ${c.status} [${c.rfc}]`, async (state) => runMalformed(g, g.server(state), c));
  }
}

/** A one-off case with its own steps. */
function special(g: Group, kind: 'wellFormed' | 'malformed', name: string, body: (server: Server) => Promise<void>) {
  counts[kind] += 1;
  g.test(`${kind === 'wellFormed' ? 'well-formed' : 'malformed'}: ${name}`, async (state) => {
    const server = g.server(state);
    let failure: unknown;
    await body(server).catch((error: unknown) => (failure = error ?? new Error('failed')));
    // Whatever happened, after a malformed case the worker must still be there.
    if (kind === 'malformed') await assertSurvived(server, name);
    if (failure) throw failure;
  });
}

/** The last case of a group: nothing was logged as an error, and the worker is the one it started with. */
function noErrors(g: Group) {
  g.test('no [ERROR] logged and the worker survived the group', async (state) => {
    const server = g.server(state);
    await assertSurvived(server, 'the group');
    const errors = server.corral.lines.filter((line) => line.includes('[ERROR]'));
    assert.equal(errors, [], 'no [ERROR] lines');
  });
}

/** 100 Continue is sent as soon as the request reaches the app, before the client sends the body. */
async function expectContinue(server: Server, expectation: string) {
  const conn = await RawConnection.open(server.port);
  try {
    await conn.write(msg('POST /expect HTTP/1.1', [H, `Expect: ${expectation}`, 'Content-Length: 5']));
    const interim = await conn.readInterim().catch((error: Error) => {
      throw new Error(`expected 100 Continue before the body is sent, got: ${error.message}`);
    });
    assert.is(interim.status, 100);
    await conn.write('hello');
    const response = await conn.readResponse();
    assert.is(response.status, 200);
    assert.is(response.interim.length, 0, 'one 100 Continue only');
    checkEcho(echo(response), { method: 'POST', body: 'hello' });
    await conn.write(PROBE);
    assert.is((await conn.readResponse()).status, 200, 'the connection stays open');
  } finally {
    conn.destroy();
  }
}

// ===========================================================================
// Request integrity, on every kind (async, thread, sync share one HTTP server):
// what a client can make of a half-close, chunk extensions, the target and Host,
// an Upgrade nobody takes, a pipeline after Connection: close, split codings and
// trailers, and a connection that never says anything.

/** Whitespace on a chunk-size line that is not BWS around `;` or `=`: refused, whether or not BWS is accepted. */
const chunkLinesRefused: Case[] = [
  { name: 'chunk-size line with whitespace and no extension ("5 ")', rfc: '§7.1', send: chunked('/', '5 \r\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk extension with whitespace after its value', rfc: '§7.1.1', send: chunked('/', '5;a=b \r\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk extension with an empty name ("5 ; =b")', rfc: '§7.1.1', send: chunked('/', '5 ; =b\r\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk size with whitespace inside ("5 5;a")', rfc: '§7.1', send: chunked('/', '5 5;a\r\nhello\r\n0\r\n\r\n'), status: 400 },
  { name: 'a quoted extension value left open ("5;a=\\"b")', rfc: '§7.1.1', send: chunked('/', '5;a="b\r\nhello\r\n0\r\n\r\n'), status: 400 },
];
/** RFC 9112 §7.1.1 allows BWS around `;` and `=` in a chunk extension. */
const chunkLinesWithBws: Case[] = ['5 ;name=value', '5; name=value', '5 ; name = value', '5\t;\tname\t=\t"quoted value"', '5 ;a ;b=c'].map((line) => ({
  name: `chunked: BWS around ; and = in a chunk extension (${JSON.stringify(line)})`,
  rfc: '§7.1.1',
  send: chunked('/c', `${line}\r\nhello\r\n0 ; last\r\n\r\n`),
  status: 200,
  check: sees({ body: 'hello' }),
}));

const upgradeRequest = (target: string) => msg(`GET ${target} HTTP/1.1`, [H, 'Connection: Upgrade', 'Upgrade: websocket']);

function integrity(g: Group) {
  const closed = g.options.connection === 'closed';
  wellFormed(g, [
    ...chunkLinesWithBws,
    {
      name: 'pipeline: a chunked POST with BWS in its extensions, then a GET',
      rfc: '§7.1.1, §9.3.2',
      send: chunked('/bws', '3 ; a = "x;y"\r\nabc\r\n0\r\n\r\n') + get('/after'),
      status: closed ? 200 : [200, 200],
      connection: closed ? 'closed' : 'open',
      check: closed ? sees({ url: '/bws', body: 'abc' }) : seeEach({ url: '/bws', body: 'abc' }, { url: '/after' }),
    },
    {
      name: 'trailer fields that must not be trailers (Host, Authorization, Content-Type, Cookie) are dropped, the others kept',
      rfc: 'RFC 9110 §6.5.1, §7.1.2',
      send: chunked('/c', '3\r\nabc\r\n0\r\nX-Trailer: yes\r\nHost: evil.example\r\nauthorization: Basic YTpi\r\nContent-Type: text/evil\r\nCookie: a=b\r\nX-Other: 2\r\n\r\n'),
      status: 200,
      check: sees({ body: 'abc', trailers: ['X-Trailer', 'yes', 'X-Other', '2'], fields: { Host: ['x'] } }),
    },
    { name: 'Host: [::1]:8080 (IP literal)', rfc: '§3.2, RFC 3986 §3.2.2', send: msg('GET / HTTP/1.1', ['Host: [::1]:8080']), status: 200 },
    { name: 'Host: 127.0.0.1', rfc: '§3.2, RFC 3986 §3.2.2', send: msg('GET / HTTP/1.1', ['Host: 127.0.0.1']), status: 200 },
  ]);
  if (!closed) {
    special(g, 'wellFormed', 'a chunked request with BWS in its extensions, read after other requests were answered on the connection [§7.1.1]', async (server) => {
      const conn = await RawConnection.open(server.port);
      try {
        await conn.write(get('/first'));
        checkEcho(echo(await conn.readResponse()), { url: '/first' });
        await conn.write(post('/second', ['Content-Length: 11'], '5 ; a = b\r\n'));
        checkEcho(echo(await conn.readResponse()), { url: '/second', body: '5 ; a = b\r\n' });
        await conn.write(chunked('/bws', '3 ; a = "x ; y"\r\nabc\r\n2\t;\tb\r\nde\r\n0 ; last\r\n\r\n'));
        const response = await conn.readResponse();
        assert.is(response.status, 200, `the chunked request: ${preview(response.body)}`);
        checkEcho(echo(response), { url: '/bws', body: 'abcde' });
      } finally {
        conn.destroy();
      }
    });
    special(g, 'wellFormed', 'BWS in the chunk extensions of a body that arrives after its head was read (100 Continue between), later on a connection [§7.1.1]', async (server) => {
      const conn = await RawConnection.open(server.port);
      try {
        await conn.write(get('/first'));
        checkEcho(echo(await conn.readResponse()), { url: '/first' });
        await conn.write(msg('POST /later HTTP/1.1', [H, 'Transfer-Encoding: chunked', 'Expect: 100-continue']));
        assert.is((await conn.readInterim()).status, 100);
        await conn.write('3 ; a = b\r\nabc\r\n0\r\n\r\n');
        checkEcho(echo(await conn.readResponse()), { url: '/later', body: 'abc' });
        await conn.write(chunked('/again', '2 ;x\r\nde\r\n0\r\n\r\n') + get('/last'));
        checkEcho(echo(await conn.readResponse()), { url: '/again', body: 'de' });
        checkEcho(echo(await conn.readResponse()), { url: '/last' });
      } finally {
        conn.destroy();
      }
    });
    special(g, 'wellFormed', 'a 256 KiB chunked body with BWS on every chunk-size line, later on a connection, arrives whole [§7.1.1]', async (server) => {
      const conn = await RawConnection.open(server.port);
      try {
        await conn.write(get('/first'));
        checkEcho(echo(await conn.readResponse()), { url: '/first' });
        const piece = 'abcdefgh'.repeat(512);
        const body = Array.from({ length: 64 }, (_, i) => `${piece.length.toString(16)} ; n = ${i}\r\n${piece}\r\n`).join('');
        await conn.write(chunked('/big', `${body}0\r\n\r\n`));
        const response = await conn.readResponse({ deadlineMs: 10_000 });
        assert.is(response.status, 200, preview(response.body));
        const seen = echo(response);
        assert.is(seen.body.length, 64 * piece.length);
        assert.ok(seen.body === piece.repeat(64), 'the body, byte for byte');
      } finally {
        conn.destroy();
      }
    });
  }
  special(g, 'wellFormed', 'a request refused after a Connection: close response gets no answer, and no log line [§9.6]', async (server) => {
    const from = server.corral.lines.length;
    const exchanged = await exchange(server.port, get('/first', ['Connection: close']) + get('/', ['X@A: b']), { connection: 'closed' });
    assert.equal(exchanged.responses.map((response) => response.status), [200]);
    checkEcho(echo(exchanged.responses[0]), { url: '/first' });
    assert.ok(exchanged.closedByServer && exchanged.extra.length === 0, `one answer, then closed: ${outcome(exchanged)}`);
    // A request refused after it is logged later than anything logged for this connection: the clock.
    const refused = await exchange(server.port, get('/', ['X@A: b']), { connection: 'closed' });
    assert.is(refused.responses[0].status, 400);
    const { index } = await server.corral.waitForLine(/Invalid request.*header token/i, { from, timeoutMs: 3000 });
    const logged = server.corral.lines.slice(from, index + 1).filter((line) => line.includes('Invalid request'));
    assert.is(logged.length, 1, `only the refused request is logged: ${logged.join(' | ')}`);
  });
  malformed(g, [
    { name: 'Content-Length as a trailer field', rfc: 'RFC 9110 §6.5.1, §7.1.2', send: chunked('/', '3\r\nabc\r\n0\r\nContent-Length: 99\r\n\r\n'), status: 400 },
    { name: 'Transfer-Encoding as a trailer field', rfc: 'RFC 9110 §6.5.1, §7.1.2', send: chunked('/', '3\r\nabc\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n'), status: 400 },
    { name: 'GET * (the asterisk form is for OPTIONS only)', rfc: '§3.2.4', send: msg('GET * HTTP/1.1'), status: 400 },
    { name: 'POST * (the asterisk form is for OPTIONS only)', rfc: '§3.2.4', send: withLength('POST', '*', 'abc'), status: 400 },
    ...['a/b?c', 'good@evil.example', 'a, b', '', 'x:80a', '[::1'].map((host) => ({
      name: `Host: ${JSON.stringify(host)}`,
      rfc: '§3.2, RFC 9110 §7.2',
      send: msg('GET / HTTP/1.1', [`Host: ${host}`]),
      status: 400,
    })),
    { name: 'an unparseable absolute-form target (s://]ufd/:)', rfc: '§3.2.2', send: withLength('PUT', 's://]ufd/:', 'abc'), status: 400 },
    { name: 'an absolute-form target with another scheme (ftp://x/a)', rfc: '§3.2.2', send: msg('GET ftp://x/a HTTP/1.1'), status: 400 },
    { name: 'an absolute-form target with userinfo (http://u@x/a)', rfc: '§3.2.2, RFC 9110 §4.2.4', send: msg('GET http://u@x/a HTTP/1.1'), status: 400 },
    { name: 'an absolute-form target with no host (http:///a)', rfc: '§3.2.2, RFC 9110 §4.2.1', send: msg('GET http:///a HTTP/1.1'), status: 400 },
    { name: 'Transfer-Encoding on two lines: gzip, then chunked (one list: gzip not implemented)', rfc: '§6.1, RFC 9110 §5.3', send: post('/', ['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), status: 501 },
    { name: 'Transfer-Encoding on two lines: chunked, then gzip (chunked not final)', rfc: '§6.3 (4)', send: post('/', ['Transfer-Encoding: chunked', 'Transfer-Encoding: gzip'], '0\r\n\r\n'), status: 400 },
    { name: 'two Content-Type lines', rfc: 'RFC 9110 §5.3, §8.3', send: withLength('POST', '/', 'abc', ['Content-Type: text/plain', 'Content-Type: application/json']), status: 400 },
    ...chunkLinesRefused,
    { name: 'obs-fold in a chunked request (the chunk-line transformer does not unfold)', rfc: '§5.2', send: post('/', ['Transfer-Encoding: chunked', 'X-A: b', ' c'], '0\r\n\r\n'), status: 400 },
  ]);
  special(g, 'wellFormed', 'a complete request, then a half-close: answered, then closed [§9.6, RFC 9293 §3.6]', async (server) => {
    const conn = await RawConnection.open(server.port);
    try {
      await conn.write(get('/slow'));
      conn.socket.end();
      const response = await conn.readResponse({ deadlineMs: 5000 });
      assert.is(response.status, 200);
      checkEcho(echo(response), { url: '/slow' });
      assert.ok(await conn.waitForClose(5000), 'closed after the answer');
      assert.is(conn.unread().length, 0, `nothing after the answer: ${preview(conn.unread())}`);
    } finally {
      conn.destroy();
    }
  });
  special(g, 'wellFormed', 'an Upgrade nobody takes, with a request pipelined behind it: every request answered in order, or closed [§9.3.2, RFC 9110 §7.8]', async (server) => {
    const conn = await RawConnection.open(server.port);
    try {
      await conn.write(upgradeRequest('/up') + get('/after'));
      const first = await conn.readResponse({ deadlineMs: 5000 });
      assert.is(first.status, 200);
      checkEcho(echo(first), { url: '/up' });
      // Either the pipelined request is answered next, or the connection ends with nothing more, at once
      // (well before --keep-alive's 2 s, which would close it anyway).
      const next = await conn.readResponse({ deadlineMs: 1000 }).catch((error: Error) => error);
      if (next instanceof Error) {
        assert.ok(conn.eof, `neither answered nor closed: ${next.message}`);
        assert.is(conn.unread().length, 0, `nothing but a response: ${preview(conn.unread())}`);
      } else {
        assert.is(next.status, 200);
        checkEcho(echo(next), { url: '/after' });
      }
      if (closed) assert.ok(await conn.waitForClose(5000), 'closed after the answers');
    } finally {
      conn.destroy();
    }
  });
}

/** For a group with --header-timeout 1: a connection closed before sending anything is not a timed-out request. */
function silentClose(g: Group) {
  special(g, 'wellFormed', 'a connection closed before sending anything logs nothing (no 408) [RFC 9110 §15.5.9]', async (server) => {
    const from = server.corral.lines.length;
    const silent = await RawConnection.open(server.port);
    silent.socket.end();
    assert.ok(await silent.waitForClose(5000), 'the silent connection is closed');
    silent.destroy();
    // A connection opened after it that stays open and silent times out later than the closed one would have: its end is the clock.
    const stalled = await RawConnection.open(server.port);
    try {
      if (g.options.kind === 'sync') {
        // The sync kind's arbiter keeps a silent connection from the workers, and closes it after the header timeout
        // without an answer: nothing was asked. Nothing at all is logged for either connection.
        assert.ok(await stalled.waitForClose(5000), 'the silent connection is closed after the header timeout');
        assert.equal(server.corral.lines.slice(from).filter((line) => /\b408\b/.test(line)), [], 'no 408 logged');
        return;
      }
      assert.is((await stalled.readResponse({ deadlineMs: 5000 })).status, 408);
      await server.corral.waitForLine(/\b408\b/, { from, timeoutMs: 3000 });
      const timeouts = server.corral.lines.slice(from).filter((line) => /\b408\b/.test(line));
      assert.equal(timeouts.length, 1, `one 408 logged (the stalled head's), got: ${timeouts.join(' | ')}`);
    } finally {
      stalled.destroy();
    }
  });
}

// ===========================================================================
// -k async, default settings: the bulk of the cases.

const main = group('conformance: -k async, defaults');

const smuggledGet = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const chunkedHoldingGet = `${smuggledGet.length.toString(16)}\r\n${smuggledGet}\r\n0\r\n\r\n`;
const fiftyFields = Array.from({ length: 50 }, (_, i) => `X-H${String(i).padStart(2, '0')}: v${i}`);
const bigBody = 'x'.repeat(100_000);
const twentyChunks = Array.from({ length: 20 }, (_, i) => `3E8\r\n${String.fromCharCode(97 + i).repeat(1000)}\r\n`).join('') + '0\r\n\r\n';

wellFormed(main, [
  {
    name: 'GET with Host',
    rfc: '§3, §3.2',
    send: get('/'),
    status: 200,
    check: (responses) => {
      const seen = echo(responses[0]);
      checkEcho(seen, { method: 'GET', url: '/', httpVersion: '1.1', body: '', fields: { Host: ['x'] } });
      assert.is(seen.remoteAddress, '127.0.0.1');
      assert.is(seen.encrypted, false);
    },
  },
  { name: 'absolute-form target', rfc: '§3.2.2', send: msg('GET http://x/a HTTP/1.1'), status: 200, check: sees({ url: 'http://x/a' }) },
  { name: 'asterisk-form OPTIONS *', rfc: '§3.2.4', send: msg('OPTIONS * HTTP/1.1'), status: 200, check: sees({ method: 'OPTIONS', url: '*' }) },
  { name: 'query string', rfc: '§3.2.1', send: get('/search?q=1&r=two&empty='), status: 200, check: sees({ url: '/search?q=1&r=two&empty=' }) },
  { name: 'percent-encoded target', rfc: 'RFC 3986 §2.1', send: get('/a%20b/%E2%82%AC?x=%2F&y=%25'), status: 200, check: sees({ url: '/a%20b/%E2%82%AC?x=%2F&y=%25' }) },
  { name: 'field value: OWS around it trimmed, SP and HTAB inside kept', rfc: '§5.1', send: get('/', ['X-Space: \t a  b\tc \t']), status: 200, check: sees({ fields: { 'X-Space': ['a  b\tc'] } }) },
  { name: 'empty field value', rfc: '§5', send: get('/', ['X-Empty:']), status: 200, check: sees({ fields: { 'X-Empty': [''] } }) },
  { name: 'field value of whitespace only', rfc: '§5.1', send: get('/', ['X-Blank: \t ']), status: 200, check: sees({ fields: { 'X-Blank': [''] } }) },
  {
    name: '50 header fields',
    rfc: '§5',
    send: get('/', fiftyFields),
    status: 200,
    check: sees({ fields: Object.fromEntries(fiftyFields.map((line) => [line.split(': ')[0], [line.split(': ')[1]]])) }),
  },
  { name: 'field names in odd case (Host included)', rfc: 'RFC 9110 §5.1', send: msg('GET / HTTP/1.1', ['hOsT: x', 'x-ODD-case: yes']), status: 200, check: sees({ fields: { host: ['x'], 'X-Odd-Case': ['yes'] } }) },
  { name: 'repeated non-Host field: both lines reach the app', rfc: 'RFC 9110 §5.3', send: get('/', ['X-Rep: 1', 'X-Rep: 2']), status: 200, check: sees({ fields: { 'X-Rep': ['1', '2'] } }) },
  { name: 'repeated field with list values', rfc: 'RFC 9110 §5.3', send: get('/', ['Accept: a, b', 'Accept: c']), status: 200, check: sees({ fields: { Accept: ['a, b', 'c'] } }) },
  { name: 'one empty line before the request line is ignored', rfc: '§2.2', send: `\r\n${get('/lead1')}`, status: 200, check: sees({ url: '/lead1' }) },
  { name: 'two empty lines before the request line are ignored', rfc: '§2.2', send: `\r\n\r\n${get('/lead2')}`, status: 200, check: sees({ url: '/lead2' }) },
  // The parser splits the line on whitespace runs before the version, as §3 lets a recipient do.
  { name: 'two spaces before the version', rfc: '§3', send: msg('GET /sp  HTTP/1.1'), status: 200, check: sees({ url: '/sp' }) },
  { name: 'field value with obs-text (0xE9)', rfc: 'RFC 9110 §5.5', send: get('/', ['X-Latin: caf\xe9']), status: 200, check: sees({ fields: { 'X-Latin': ['caf\xe9'] } }) },
  { name: 'field value with colons', rfc: '§5.1', send: get('/', ['X-Colon: a:b::c']), status: 200, check: sees({ fields: { 'X-Colon': ['a:b::c'] } }) },
  { name: "field name of tchars (!#$%&'*+-.^`|~)", rfc: 'RFC 9110 §5.1', send: get('/', ["X-!#$%&'*+.^`|~: 1"]), status: 200, check: sees({ fields: { "X-!#$%&'*+.^`|~": ['1'] } }) },
  { name: 'Host with a port', rfc: '§3.2', send: msg('GET / HTTP/1.1', ['Host: x:8080']), status: 200, check: sees({ fields: { Host: ['x:8080'] } }) },
  { name: 'a 2,000-byte target', rfc: '§3', send: get(`/${'t'.repeat(1999)}`), status: 200, check: sees({ url: `/${'t'.repeat(1999)}` }) },
  // Methods
  {
    name: 'HEAD: the headers a GET gets, and no body bytes',
    rfc: 'RFC 9110 §9.3.2',
    send: msg('HEAD /head HTTP/1.1'),
    methods: ['HEAD'],
    status: 200,
    check: ([response]) => {
      assert.is(response.headers['content-type'], 'application/json');
      assert.match(response.headers['content-length'] ?? '', /^[1-9]\d*$/, 'the Content-Length a GET would have');
      assert.is(response.body.length, 0);
    },
  },
  { name: 'POST with a body', rfc: 'RFC 9110 §9.3.3', send: withLength('POST', '/p', 'hello'), status: 200, check: sees({ method: 'POST', body: 'hello' }) },
  { name: 'PUT with a body', rfc: 'RFC 9110 §9.3.4', send: withLength('PUT', '/p', 'put body'), status: 200, check: sees({ method: 'PUT', body: 'put body' }) },
  { name: 'DELETE', rfc: 'RFC 9110 §9.3.5', send: msg('DELETE /d HTTP/1.1'), status: 200, check: sees({ method: 'DELETE', url: '/d' }) },
  { name: 'PATCH with a body', rfc: 'RFC 5789', send: withLength('PATCH', '/p', '{"a":1}'), status: 200, check: sees({ method: 'PATCH', body: '{"a":1}' }) },
  { name: 'OPTIONS /', rfc: 'RFC 9110 §9.3.7', send: msg('OPTIONS / HTTP/1.1'), status: 200, check: sees({ method: 'OPTIONS', url: '/' }) },
  { name: 'TRACE', rfc: 'RFC 9110 §9.3.8', send: msg('TRACE /t HTTP/1.1'), status: 200, check: sees({ method: 'TRACE', url: '/t' }) },
  { name: 'GET with a Content-Length body: framing honoured', rfc: '§6.2', send: withLength('GET', '/', 'abc'), status: 200, check: sees({ method: 'GET', body: 'abc' }) },
  // HTTP/1.0 and Connection
  { name: 'HTTP/1.0 GET without Host: served, then closed', rfc: '§9.3', send: 'GET /ten HTTP/1.0\r\n\r\n', status: 200, connection: 'closed', check: sees({ httpVersion: '1.0', url: '/ten' }) },
  {
    name: 'HTTP/1.0 with Connection: keep-alive stays open',
    rfc: '§9.3, RFC 2068 §19.7.1',
    send: 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    status: 200,
    check: ([response]) => {
      assert.match(response.headers.connection ?? '', /keep-alive/i, 'a 1.0 client is told the connection persists');
      checkEcho(echo(response), { httpVersion: '1.0' });
    },
  },
  { name: 'HTTP/1.0 with Connection: Keep-Alive (any case) stays open', rfc: '§9.3', send: 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', status: 200 },
  { name: 'HTTP/1.0 POST with Content-Length, then closed', rfc: '§9.3', send: 'POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\nten!', status: 200, connection: 'closed', check: sees({ body: 'ten!' }) },
  { name: 'Connection: close', rfc: '§9.6', send: get('/', ['Connection: close']), status: 200, connection: 'closed' },
  { name: 'Connection: close, foo', rfc: '§9.6, RFC 9110 §7.6.1', send: get('/', ['Connection: close, foo']), status: 200, connection: 'closed' },
  { name: 'Connection: foo, close', rfc: '§9.6, RFC 9110 §7.6.1', send: get('/', ['Connection: foo, close']), status: 200, connection: 'closed' },
  { name: 'Connection: CLOSE (options are case-insensitive)', rfc: '§9.6, RFC 9110 §7.6.1', send: get('/', ['Connection: CLOSE']), status: 200, connection: 'closed' },
  { name: 'HTTP/1.1 Connection: keep-alive stays open', rfc: '§9.3', send: get('/', ['Connection: keep-alive']), status: 200 },
  { name: 'pipeline whose first request says close: the second is never answered', rfc: '§9.6', send: get('/first', ['Connection: close']) + get('/second'), status: 200, connection: 'closed', check: sees({ url: '/first' }) },
  { name: 'pipeline of two, close on the second: both answered, then closed', rfc: '§9.3.2, §9.6', send: get('/one') + get('/two', ['Connection: close']), status: [200, 200], connection: 'closed', check: seeEach({ url: '/one' }, { url: '/two' }) },
  // Content-Length bodies
  { name: 'POST Content-Length: 0', rfc: '§6.2', send: withLength('POST', '/', ''), status: 200, check: sees({ body: '' }) },
  { name: 'POST Content-Length: 5', rfc: '§6.2', send: withLength('POST', '/', '12345'), status: 200, check: sees({ body: '12345' }) },
  { name: 'Content-Length with leading zeros (005)', rfc: 'RFC 9110 §8.6', send: post('/', ['Content-Length: 005'], 'hello'), status: 200, check: sees({ body: 'hello' }) },
  {
    name: 'a 100,000-byte body in ten writes',
    rfc: '§6.2',
    send: pieces(withLength('POST', '/big', bigBody), 10_010),
    status: 200,
    check: sees({ bodyLength: 100_000 }),
  },
  { name: 'POST with no length: an empty body', rfc: '§6.3 (7)', send: msg('POST /nolength HTTP/1.1'), status: 200, check: sees({ method: 'POST', body: '' }) },
  // Chunked bodies
  { name: 'chunked: several chunks', rfc: '§7.1', send: chunked('/c', '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'hello world' }) },
  { name: 'chunked: uppercase hex size (1A)', rfc: '§7.1', send: chunked('/c', '1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'abcdefghijklmnopqrstuvwxyz' }) },
  { name: 'chunked: lowercase hex size (1a)', rfc: '§7.1', send: chunked('/c', '1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'abcdefghijklmnopqrstuvwxyz' }) },
  { name: 'chunked: size with leading zeros (0005)', rfc: '§7.1', send: chunked('/c', '0005\r\nhello\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'hello' }) },
  { name: 'chunked: extension 3;foo=bar', rfc: '§7.1.1', send: chunked('/c', '3;foo=bar\r\nabc\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'abc' }) },
  { name: 'chunked: extension 3;foo="q"', rfc: '§7.1.1', send: chunked('/c', '3;foo="q"\r\nabc\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'abc' }) },
  { name: 'chunked: extensions without values, on the last chunk too', rfc: '§7.1.1', send: chunked('/c', '3;foo\r\nabc\r\n0;last\r\n\r\n'), status: 200, check: sees({ body: 'abc' }) },
  {
    name: 'chunked: trailer fields reach the app as rawTrailers',
    rfc: '§7.1.2',
    send: chunked('/c', '3\r\nabc\r\n0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n'),
    status: 200,
    check: sees({ body: 'abc', trailers: ['X-Trailer', 'yes', 'X-Other', '2'] }),
  },
  { name: 'chunked: empty body (last chunk only)', rfc: '§7.1', send: chunked('/c', '0\r\n\r\n'), status: 200, check: sees({ body: '' }) },
  { name: 'Transfer-Encoding: Chunked (codings are case-insensitive)', rfc: '§7', send: post('/c', ['Transfer-Encoding: Chunked'], '3\r\nabc\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'abc' }) },
  {
    name: 'chunked: body split across many writes (inside sizes and CRLFs)',
    rfc: '§7.1',
    send: [post('/c', ['Transfer-Encoding: chunked'], ''), '5\r', '\nhel', 'lo\r\n', '1', '0\r\n0123456789abcdef', '\r', '\n0\r', '\n\r', '\n'],
    status: 200,
    check: sees({ body: 'hello0123456789abcdef' }),
  },
  { name: 'chunked POST, one byte per write', rfc: '§7.1', send: pieces(chunked('/bytes', '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'), 1), status: 200, check: sees({ url: '/bytes', body: 'abcde' }) },
  { name: 'GET, one byte per write', rfc: '§2.2', send: pieces(get('/bytes', ['X-A: b']), 1), status: 200, check: sees({ url: '/bytes', fields: { 'X-A': ['b'] } }) },
  { name: 'chunked: 20 chunks of 1,000 bytes (hex 3E8)', rfc: '§7.1', send: chunked('/c', twentyChunks), status: 200, check: sees({ bodyLength: 20_000 }) },
  // Expect
  { name: 'Expect: 100-continue with the body sent at once', rfc: 'RFC 9110 §10.1.1', send: withLength('POST', '/e', 'hello', ['Expect: 100-continue']), status: 200, check: sees({ body: 'hello' }) },
  {
    name: 'Expect: 100-continue on HTTP/1.0: no interim response',
    rfc: 'RFC 9110 §10.1.1',
    send: 'POST /e HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello',
    status: 200,
    connection: 'closed',
    check: ([response]) => {
      assert.is(response.interim.length, 0, 'no 100 Continue to an HTTP/1.0 client');
      checkEcho(echo(response), { body: 'hello' });
    },
  },
  // Pipelining
  {
    name: 'pipeline of 3 in one write (GET, POST with body, GET)',
    rfc: '§9.3.2',
    send: get('/one') + withLength('POST', '/two', 'body two') + get('/three'),
    status: [200, 200, 200],
    check: seeEach({ url: '/one' }, { url: '/two', method: 'POST', body: 'body two' }, { url: '/three' }),
  },
  {
    name: 'pipeline of 10',
    rfc: '§9.3.2',
    send: Array.from({ length: 10 }, (_, i) => get(`/p${i}`)).join(''),
    status: Array(10).fill(200),
    check: seeEach(...Array.from({ length: 10 }, (_, i) => ({ url: `/p${i}` }))),
  },
  {
    name: 'pipeline: chunked POST then GET',
    rfc: '§9.3.2, §7.1',
    send: chunked('/chunked', '4\r\nwxyz\r\n0\r\n\r\n') + get('/after'),
    status: [200, 200],
    check: seeEach({ url: '/chunked', body: 'wxyz' }, { url: '/after', body: '' }),
  },
  {
    name: 'pipeline: HEAD then GET (the HEAD answer has no body)',
    rfc: '§9.3.2, RFC 9110 §9.3.2',
    send: msg('HEAD /h HTTP/1.1') + get('/g'),
    methods: ['HEAD', 'GET'],
    status: [200, 200],
    check: ([head, after]) => {
      assert.is(head.body.length, 0);
      checkEcho(echo(after), { url: '/g', method: 'GET' });
    },
  },
  // Limits at the bound
  { name: 'request line of exactly 4094 bytes', rfc: '§3 (--limit-request-line)', send: msg(requestLineOf(4094)), status: 200, check: sees({ url: requestLineOf(4094).slice(4, -9) }) },
  { name: 'exactly 100 header fields', rfc: '§5 (--limit-request-fields)', send: msg('GET / HTTP/1.1', fieldsOf(100)), status: 200, check: sees({ fields: { 'X-F98': ['v98'] } }) },
  { name: 'a field line of exactly 8190 bytes', rfc: '§5 (--limit-request-field_size)', send: get('/', [fieldOf(8190)]), status: 200, check: sees({ fields: { 'X-Big': [fieldOf(8190).slice(7)] } }) },
  // --header-map drop (the default)
  { name: 'X_Test (underscore) is dropped, other fields kept', rfc: '--header-map drop', send: get('/', ['X_Test: 1', 'X-Other: 2']), status: 200, check: sees({ fields: { X_Test: [], 'X-Other': ['2'] } }) },
  { name: 'X-Test and X_Test: only X-Test reaches the app', rfc: '--header-map drop', send: get('/', ['X-Test: dash', 'X_Test: underscore']), status: 200, check: sees({ fields: { 'X-Test': ['dash'], X_Test: [] } }) },
  // Response framing
  {
    name: '/stream on HTTP/1.1: chunked',
    rfc: '§7.1',
    send: get('/stream'),
    status: 200,
    check: ([response]) => {
      assert.is(response.headers['transfer-encoding'], 'chunked');
      assert.ok(response.chunked);
      assert.is(response.text, 'abc');
    },
  },
  {
    name: '/stream on HTTP/1.0: not chunked, then closed',
    rfc: '§7.1, §9.3',
    send: 'GET /stream HTTP/1.0\r\n\r\n',
    status: 200,
    connection: 'closed',
    check: ([response]) => {
      assert.not.ok('transfer-encoding' in response.headers, 'no chunking to an HTTP/1.0 client');
      assert.is(response.text, 'abc');
    },
  },
  { name: 'GET /pid', rfc: '§3', send: get('/pid'), status: 200, check: ([response]) => assert.match(response.text, /^\d+$/) },
]);

special(main, 'wellFormed', 'Expect: 100-continue: 100 Continue before the body is sent, then 200 [RFC 9110 §10.1.1]', (server) => expectContinue(server, '100-continue'));
special(main, 'wellFormed', 'Expect: 100-Continue (case-insensitive) [RFC 9110 §10.1.1]', (server) => expectContinue(server, '100-Continue'));
special(main, 'wellFormed', 'HTTP/0.9 simple request: the body alone, then closed [RFC 1945 §4.1]', async (server) => {
  const { data, closedByServer } = await rawExchange(server.port, 'GET /pid\r\n');
  const text = data.toString('latin1');
  assert.not.ok(text.startsWith('HTTP/'), `no status line: got ${preview(data)}`);
  assert.ok(text.startsWith(server.pid), `the answer is the body (the pid ${server.pid}): got ${preview(data)}`);
  assert.ok(closedByServer, 'closed after the body');
});

malformed(main, [
  // Framing: Content-Length and Transfer-Encoding
  { name: 'Content-Length then Transfer-Encoding', rfc: '§6.1, §6.3 (3)', send: post('/', ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), status: 400 },
  { name: 'Transfer-Encoding then Content-Length', rfc: '§6.1, §6.3 (3)', send: post('/', ['Transfer-Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n'), status: 400 },
  { name: 'two Content-Length with different values', rfc: '§6.3 (5)', send: post('/', ['Content-Length: 3', 'Content-Length: 4'], 'abcd'), status: 400 },
  { name: 'two identical Content-Length lines', rfc: '§6.3 (5), RFC 9110 §8.6', send: post('/', ['Content-Length: 3', 'Content-Length: 3'], 'abc'), status: 400 },
  { name: 'Content-Length: 3, 3', rfc: '§6.3 (5), RFC 9110 §8.6', send: post('/', ['Content-Length: 3, 3'], 'abc'), status: 400 },
  { name: 'Content-Length: +3', rfc: 'RFC 9110 §8.6', send: post('/', ['Content-Length: +3'], 'abc'), status: 400 },
  { name: 'Content-Length: -1', rfc: 'RFC 9110 §8.6', send: post('/', ['Content-Length: -1'], 'abc'), status: 400 },
  { name: 'Content-Length: 0x10', rfc: 'RFC 9110 §8.6', send: post('/', ['Content-Length: 0x10'], 'abcdefghijklmnop'), status: 400 },
  { name: 'Content-Length: 3 4', rfc: 'RFC 9110 §8.6', send: post('/', ['Content-Length: 3 4'], 'abcd'), status: 400 },
  { name: 'Content-Length empty', rfc: 'RFC 9110 §8.6', send: post('/', ['Content-Length:'], 'abc'), status: 400 },
  { name: 'Content-Length: 3a', rfc: 'RFC 9110 §8.6', send: post('/', ['Content-Length: 3a'], 'abc'), status: 400 },
  { name: 'Transfer-Encoding: gzip (chunked not final)', rfc: '§6.3 (4)', send: post('/', ['Transfer-Encoding: gzip'], 'abc'), status: 400 },
  { name: 'Transfer-Encoding: chunked, gzip', rfc: '§6.3 (4)', send: post('/', ['Transfer-Encoding: chunked, gzip'], '0\r\n\r\n'), status: 400 },
  { name: 'Transfer-Encoding: identity', rfc: '§6.3 (4)', send: post('/', ['Transfer-Encoding: identity'], 'abc'), status: 400 },
  { name: 'Transfer-Encoding: xchunked', rfc: '§6.3 (4)', send: post('/', ['Transfer-Encoding: xchunked'], '0\r\n\r\n'), status: 400 },
  { name: 'Transfer-Encoding: chunked on two lines', rfc: '§7', send: post('/', ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), status: 400 },
  { name: 'Transfer-Encoding: chunked, chunked', rfc: '§7', send: post('/', ['Transfer-Encoding: chunked, chunked'], '0\r\n\r\n'), status: 400 },
  { name: 'Transfer-Encoding: \\x85chunked\\xa0', rfc: '§6.3 (4)', send: post('/', ['Transfer-Encoding: \x85chunked\xa0'], '0\r\n\r\n'), status: 400 },
  { name: 'Transfer-Encoding: chunked on HTTP/1.0', rfc: '§6.1', send: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', status: 400 },
  // Chunked framing
  { name: 'chunk size zz', rfc: '§7.1', send: chunked('/', 'zz\r\nabc\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk size -1', rfc: '§7.1', send: chunked('/', '-1\r\nabc\r\n0\r\n\r\n'), status: 400 },
  { name: 'empty chunk-size line', rfc: '§7.1', send: chunked('/', '\r\nabc\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk size FFFFFFFFFFFFFFFFFF (overflow)', rfc: '§7.1', send: chunked('/', 'FFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n'), status: 400 },
  { name: 'space before the chunk size', rfc: '§7.1', send: chunked('/', ' 3\r\nabc\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk data longer than its size', rfc: '§7.1', send: chunked('/', '3\r\nabcd\r\n0\r\n\r\n'), status: 400 },
  { name: 'no CRLF after chunk data', rfc: '§7.1', send: chunked('/', '3\r\nabc0\r\n\r\n'), status: 400 },
  { name: 'chunk-size line ended by a bare LF', rfc: '§7.1, §2.2', send: chunked('/', '3\nabc\r\n0\r\n\r\n'), status: 400 },
  { name: 'chunk data ended by a bare LF', rfc: '§7.1, §2.2', send: chunked('/', '3\r\nabc\n0\r\n\r\n'), status: 400 },
  { name: 'invalid field name in the trailer section', rfc: '§7.1.2', send: chunked('/', '3\r\nabc\r\n0\r\nX A: b\r\n\r\n'), status: 400 },
  // Field lines
  { name: 'obs-fold (SP) without --permit-obsolete-folding', rfc: '§5.2', send: get('/', ['X-A: b', ' c']), status: 400 },
  { name: 'obs-fold (HTAB) without --permit-obsolete-folding', rfc: '§5.2', send: get('/', ['X-A: b', '\tc']), status: 400 },
  { name: 'bare CR inside a field value', rfc: '§2.2', send: get('/', ['X-A: b\rc']), status: 400 },
  { name: 'bare CR ending the request line', rfc: '§2.2', send: 'GET / HTTP/1.1\rHost: x\r\n\r\n', status: 400 },
  { name: 'bare LF line endings throughout', rfc: '§2.2', send: 'GET / HTTP/1.1\nHost: x\n\n', status: 400 },
  { name: 'bare LF ending the request line', rfc: '§2.2', send: 'GET / HTTP/1.1\nHost: x\r\n\r\n', status: 400 },
  { name: 'bare LF ending a field line', rfc: '§2.2', send: 'GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n', status: 400 },
  { name: 'Host : x (whitespace before the colon)', rfc: '§5.1', send: msg('GET / HTTP/1.1', ['Host : x']), status: 400 },
  { name: 'X-A\\t: b (HTAB before the colon)', rfc: '§5.1', send: get('/', ['X-A\t: b']), status: 400 },
  { name: 'X-A : b (SP before the colon)', rfc: '§5.1', send: get('/', ['X-A : b']), status: 400 },
  { name: 'a second Host with a space before its colon', rfc: '§5.1, §3.2', send: get('/', ['Host : y']), status: 400 },
  { name: 'whitespace before the first field line', rfc: '§2.2', send: 'GET / HTTP/1.1\r\n Host: x\r\n\r\n', status: 400 },
  { name: 'whitespace-preceded line before a valid Host', rfc: '§2.2', send: 'GET / HTTP/1.1\r\n X-A: b\r\nHost: x\r\n\r\n', status: 400 },
  ...['X(A)', 'X@A', 'X A', '"X"', 'X/A', 'X[A]', 'X{A}', 'X=A', 'X,A', 'X;A', 'X?A', 'X<A>', 'X\\A', 'X\x01A', 'X\xe9A'].map((name) => ({
    name: `field name ${JSON.stringify(name)} (not a token)`,
    rfc: 'RFC 9110 §5.1',
    send: get('/', [`${name}: b`]),
    status: 400,
  })),
  { name: 'empty field name (": b")', rfc: 'RFC 9110 §5.1', send: get('/', [': b']), status: 400 },
  { name: 'field line without a colon', rfc: '§5', send: get('/', ['X-A']), status: 400 },
  ...[0x00, 0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x7f].map((byte) => ({
    name: `CTL 0x${byte.toString(16).padStart(2, '0')} in a field value`,
    rfc: 'RFC 9110 §5.5',
    send: get('/', [`X-A: b${String.fromCharCode(byte)}c`]),
    status: 400,
  })),
  // Request line
  { name: 'G@T (not a token)', rfc: '§3.1', send: msg('G@T / HTTP/1.1'), status: 400 },
  { name: 'G\\x00T (NUL in the method)', rfc: '§3.1', send: msg('G\x00T / HTTP/1.1'), status: 400 },
  { name: 'GE T / HTTP/1.1 (four words)', rfc: '§3', send: msg('GE T / HTTP/1.1'), status: 400 },
  { name: 'GET  HTTP/1.1 (missing target)', rfc: '§3', send: msg('GET  HTTP/1.1'), status: 400 },
  { name: 'GET HTTP/1.1 (missing target)', rfc: '§3', send: msg('GET HTTP/1.1'), status: 400 },
  { name: 'space in the target', rfc: '§3.2', send: msg('GET /a b HTTP/1.1'), status: 400 },
  { name: 'CTL 0x01 in the target', rfc: '§3.2', send: msg('GET /a\x01b HTTP/1.1'), status: 400 },
  { name: 'space before the method', rfc: '§3', send: msg(' GET / HTTP/1.1'), status: 400 },
  { name: 'HTAB as the separator', rfc: '§3', send: msg('GET\t/\tHTTP/1.1'), status: 400 },
  { name: 'HTTP/1.x', rfc: '§2.3', send: msg('GET / HTTP/1.x'), status: 400 },
  { name: 'HTTP/1.2', rfc: '§2.3 (see report)', send: msg('GET / HTTP/1.2'), status: 400 },
  { name: 'HTTP/11', rfc: '§2.3', send: msg('GET / HTTP/11'), status: 400 },
  { name: 'http/1.1 (the name is case-sensitive)', rfc: '§2.3', send: msg('GET / http/1.1'), status: 400 },
  { name: 'trailing space after HTTP/1.1', rfc: '§3', send: msg('GET / HTTP/1.1 '), status: 400 },
  { name: 'HTTP/1', rfc: '§2.3', send: msg('GET / HTTP/1'), status: 400 },
  { name: 'HTTP/1.1 without Host', rfc: '§3.2', send: 'GET / HTTP/1.1\r\nX-A: b\r\n\r\n', status: 400 },
  { name: 'two Host fields', rfc: '§3.2', send: msg('GET / HTTP/1.1', ['Host: x', 'Host: y']), status: 400 },
  // 501, 505
  { name: 'Transfer-Encoding: gzip, chunked (gzip not implemented)', rfc: '§6.1', send: post('/', ['Transfer-Encoding: gzip, chunked'], '0\r\n\r\n'), status: 501 },
  { name: 'Transfer-Encoding: deflate, chunked (deflate not implemented)', rfc: '§6.1', send: post('/', ['Transfer-Encoding: deflate, chunked'], '0\r\n\r\n'), status: 501 },
  { name: 'unknown method FOO', rfc: 'RFC 9110 §9.1', send: msg('FOO / HTTP/1.1'), status: 501 },
  { name: 'lowercase get (methods are case-sensitive)', rfc: 'RFC 9110 §9.1', send: msg('get / HTTP/1.1'), status: 501 },
  { name: 'HTTP/2.0', rfc: 'RFC 9110 §15.6.6', send: msg('GET / HTTP/2.0'), status: 505 },
  { name: 'HTTP/3.0', rfc: 'RFC 9110 §15.6.6', send: msg('GET / HTTP/3.0'), status: 505 },
  // Limits
  { name: 'request line of 4095 bytes', rfc: '§3 (--limit-request-line)', send: msg(requestLineOf(4095)), status: 414 },
  { name: 'request line of 100,000 bytes', rfc: '§3 (--limit-request-line)', send: msg(requestLineOf(100_000)), status: 414 },
  { name: '101 header fields', rfc: '§5 (--limit-request-fields)', send: msg('GET / HTTP/1.1', fieldsOf(101)), status: 431 },
  { name: 'a field line of 8191 bytes', rfc: '§5 (--limit-request-field_size)', send: get('/', [fieldOf(8191)]), status: 431 },
  {
    name: 'a 200,000-byte header section (2,000 fields of 100 bytes)',
    rfc: '§5, RFC 6585 §5',
    send: get('/', Array.from({ length: 2000 }, (_, i) => `X-Pad-${String(i).padStart(4, '0')}: ${'p'.repeat(88)}`)),
    status: 431,
  },
  // Expect
  { name: 'Expect: something-else', rfc: 'RFC 9110 §10.1.1', send: get('/', ['Expect: something-else']), status: 417 },
  // Smuggling
  {
    name: 'smuggling CL.TE: a pipelined GET inside the POST body is never answered',
    rfc: '§6.3 (3), §11.2',
    send: post('/', [`Content-Length: ${`0\r\n\r\n${smuggledGet}`.length}`, 'Transfer-Encoding: chunked'], `0\r\n\r\n${smuggledGet}`),
    status: 400,
  },
  {
    name: 'smuggling TE.CL: a chunked body holding GET /smuggled',
    rfc: '§6.3 (3), §11.2',
    send: post('/', ['Transfer-Encoding: chunked', 'Content-Length: 4'], chunkedHoldingGet),
    status: 400,
  },
  {
    name: 'smuggling: "Transfer-Encoding : chunked" beside Content-Length',
    rfc: '§5.1, §11.2',
    send: post('/', ['Content-Length: 4', 'Transfer-Encoding : chunked'], chunkedHoldingGet),
    status: 400,
  },
]);

main.test('a malformed request is logged at INFO, not as an error; no [ERROR] for the whole run', async (state) => {
  const server = main.server(state);
  const from = server.corral.lines.length;
  const exchanged = await exchange(server.port, post('/', ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), { connection: 'closed' });
  assert.is(exchanged.responses[0].status, 400);
  await server.corral.waitForLine(/\[INFO\] .*(\b400\b|Bad Request)/, { from, timeoutMs: 3000 });
  await assertSurvived(server, 'the logged request');
  const errors = server.corral.lines.filter((line) => line.includes('[ERROR]'));
  assert.equal(errors, [], 'no [ERROR] lines');
});
integrity(main);
main.test.run();

// ===========================================================================
// Relaxed settings: no limits on line and field size, dangerous header map,
// obs-fold accepted, no Server header, 1 s keep-alive.

const relaxed = group('conformance: -k async, relaxed settings', {
  flags: ['--limit-request-line', '0', '--limit-request-field_size', '0', '--header-map', 'dangerous', '--permit-obsolete-folding', '--server-header', '', '--keep-alive', '1'],
  serverHeader: null,
});

wellFormed(relaxed, [
  { name: 'a 20,000-byte request line with --limit-request-line 0', rfc: '§3', send: msg(requestLineOf(20_000)), status: 200, check: sees({ url: requestLineOf(20_000).slice(4, -9) }) },
  { name: 'a 20,000-byte field line with --limit-request-field_size 0', rfc: '§5', send: get('/', [fieldOf(20_000)]), status: 200, check: sees({ fields: { 'X-Big': [fieldOf(20_000).slice(7)] } }) },
  { name: 'X_Test reaches the app with --header-map dangerous', rfc: '--header-map dangerous', send: get('/', ['X_Test: 1', 'X-Other: 2']), status: 200, check: sees({ fields: { X_Test: ['1'], 'X-Other': ['2'] } }) },
  { name: 'obs-fold (SP) joined with one space', rfc: '§5.2', send: get('/', ['X-A: b', '  c']), status: 200, check: sees({ fields: { 'X-A': ['b c'] } }) },
  { name: 'obs-fold (HTAB) joined with one space', rfc: '§5.2', send: get('/', ['X-A: b', '\tc']), status: 200, check: sees({ fields: { 'X-A': ['b c'] } }) },
  { name: 'obs-fold over three lines', rfc: '§5.2', send: get('/', ['X-A: a', ' b', ' \tc', 'X-B: d']), status: 200, check: sees({ fields: { 'X-A': ['a b c'], 'X-B': ['d'] } }) },
  ...chunkLinesWithBws,
  {
    name: 'pipeline: a chunked POST with BWS in its extensions, then a GET',
    rfc: '§7.1.1, §9.3.2',
    send: chunked('/bws', '3 ; a = "x;y"\r\nabc\r\n0\r\n\r\n') + get('/after'),
    status: [200, 200],
    check: seeEach({ url: '/bws', body: 'abc' }, { url: '/after' }),
  },
]);
special(relaxed, 'wellFormed', 'an idle keep-alive connection is closed after --keep-alive 1 [§9.5]', async (server) => {
  const conn = await RawConnection.open(server.port);
  try {
    await conn.write(get('/'));
    assert.is((await conn.readResponse()).status, 200);
    const idleSince = Date.now();
    const closed = await conn.waitForClose(5000);
    const idleMs = Date.now() - idleSince;
    assert.ok(closed, 'closed within 5 s of idleness');
    assert.ok(idleMs >= 500, `closed after ${idleMs} ms idle, not before the keep-alive timeout`);
    assert.is(conn.unread().length, 0, `nothing sent on close: ${preview(conn.unread())}`);
  } finally {
    conn.destroy();
  }
});
malformed(relaxed, [
  { name: '101 header fields, with the other limits off', rfc: '§5 (--limit-request-fields)', send: msg('GET / HTTP/1.1', fieldsOf(101)), status: 431 },
  { name: 'Content-Length and Transfer-Encoding', rfc: '§6.1', send: post('/', ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), status: 400 },
  { name: 'bare CR in a field value', rfc: '§2.2', send: get('/', ['X-A: b\rc']), status: 400 },
  ...chunkLinesRefused,
]);
noErrors(relaxed);
relaxed.test.run();

// ===========================================================================
// Strict settings: --header-map refuse, a custom Server header, a 1 s header timeout.

const strict = group('conformance: -k async, strict settings and timeouts', {
  flags: ['--header-map', 'refuse', '--server-header', 'acme/1', '--header-timeout', '1'],
  serverHeader: 'acme/1',
});

wellFormed(strict, [
  { name: 'Server: acme/1 with --server-header acme/1', rfc: 'RFC 9110 §10.2.4', send: get('/', ['X-Test: 1']), status: 200, check: sees({ fields: { 'X-Test': ['1'] } }) },
  { name: 'a pipeline of two, both with Server: acme/1', rfc: '§9.3.2', send: get('/a') + get('/b'), status: [200, 200], check: seeEach({ url: '/a' }, { url: '/b' }) },
]);
malformed(strict, [{ name: 'X_Test with --header-map refuse', rfc: '--header-map refuse', send: get('/', ['X_Test: 1']), status: 400 }]);
const stalledHead = (g: Group) => async (server: Server) => {
  const conn = await RawConnection.open(server.port);
  try {
    const started = Date.now();
    await conn.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const response = await conn.readResponse({ deadlineMs: 5000 });
    const elapsed = Date.now() - started;
    assert.is(response.status, 408);
    assert.ok(elapsed >= 400, `answered after ${elapsed} ms, not before the header timeout`);
    assert.match(response.headers.connection ?? '', CLOSE_OPTION, 'Connection: close');
    assert.ok(response.text.startsWith(REASON[408]), `body: ${preview(response.body)}`);
    assert.ok(await conn.waitForClose(5000 - elapsed), 'closed within 5 s');
    checkStandardHeaders(response, g.options, 'the 408');
  } finally {
    conn.destroy();
  }
};
special(strict, 'malformed', 'headers stalled past --header-timeout 1: 408, then closed [RFC 9110 §15.5.9]', stalledHead(strict));
special(strict, 'malformed', 'a connection that sends nothing is closed within the deadline (408 or a plain close)', async (server) => {
  const conn = await RawConnection.open(server.port);
  try {
    const closed = await conn.waitForClose(5000);
    assert.ok(closed, 'closed within 5 s');
    const data = conn.all();
    if (data.length > 0) {
      const parsed = parseResponse(data, 0, { eof: true });
      assert.is(parsed?.response.status, 408, `if anything, a 408: got ${preview(data)}`);
      assert.is(parsed?.end, data.length, 'nothing after the 408');
    }
  } finally {
    conn.destroy();
  }
});
silentClose(strict);
noErrors(strict);
strict.test.run();

// ===========================================================================
// -k thread: the same parsing, the app in pool threads.

const threaded = group('conformance: -k thread --threads 2', { kind: 'thread', flags: ['--threads', '2', '--header-timeout', '1'] });

wellFormed(threaded, [
  {
    name: 'pipeline of 3 in one write',
    rfc: '§9.3.2',
    send: get('/one') + withLength('POST', '/two', 'body two') + get('/three'),
    status: [200, 200, 200],
    check: seeEach({ url: '/one' }, { url: '/two', body: 'body two' }, { url: '/three' }),
  },
  {
    name: 'pipeline of 10',
    rfc: '§9.3.2',
    send: Array.from({ length: 10 }, (_, i) => get(`/p${i}`)).join(''),
    status: Array(10).fill(200),
    check: seeEach(...Array.from({ length: 10 }, (_, i) => ({ url: `/p${i}` }))),
  },
  { name: 'chunked body', rfc: '§7.1', send: chunked('/c', '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'hello world' }) },
  {
    name: 'HEAD: no body bytes',
    rfc: 'RFC 9110 §9.3.2',
    send: msg('HEAD /head HTTP/1.1'),
    methods: ['HEAD'],
    status: 200,
    check: ([response]) => {
      assert.match(response.headers['content-length'] ?? '', /^[1-9]\d*$/);
      assert.is(response.body.length, 0);
    },
  },
  { name: 'HTTP/1.0 GET: served, then closed', rfc: '§9.3', send: 'GET /ten HTTP/1.0\r\n\r\n', status: 200, connection: 'closed', check: sees({ url: '/ten' }) },
]);
malformed(threaded, [
  { name: 'Content-Length and Transfer-Encoding', rfc: '§6.1', send: post('/', ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), status: 400 },
  { name: 'field name X@A', rfc: 'RFC 9110 §5.1', send: get('/', ['X@A: b']), status: 400 },
]);
integrity(threaded);
silentClose(threaded);
noErrors(threaded);
threaded.test.run();

// ===========================================================================
// -k sync: one request per connection, every answer Connection: close.

const sync = group('conformance: -k sync', { kind: 'sync', connection: 'closed', flags: ['--header-timeout', '1'] });

wellFormed(sync, [
  { name: 'GET', rfc: '§9.6', send: get('/s'), status: 200, check: sees({ url: '/s' }) },
  { name: 'POST with Content-Length', rfc: '§6.2', send: withLength('POST', '/s', 'hello'), status: 200, check: sees({ body: 'hello' }) },
  { name: 'chunked POST', rfc: '§7.1', send: chunked('/s', '3\r\nabc\r\n0\r\n\r\n'), status: 200, check: sees({ body: 'abc' }) },
  { name: 'HEAD', rfc: 'RFC 9110 §9.3.2', send: msg('HEAD /s HTTP/1.1'), methods: ['HEAD'], status: 200, check: ([response]) => assert.is(response.body.length, 0) },
  { name: 'HTTP/1.0 GET', rfc: '§9.3', send: 'GET /s HTTP/1.0\r\n\r\n', status: 200, check: sees({ httpVersion: '1.0' }) },
]);
malformed(sync, [
  { name: 'Content-Length and Transfer-Encoding', rfc: '§6.1', send: post('/', ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), status: 400 },
  { name: 'bare LF line endings', rfc: '§2.2', send: 'GET / HTTP/1.1\nHost: x\n\n', status: 400 },
  { name: 'field name X@A', rfc: 'RFC 9110 §5.1', send: get('/', ['X@A: b']), status: 400 },
  { name: 'HTTP/1.1 without Host', rfc: '§3.2', send: 'GET / HTTP/1.1\r\n\r\n', status: 400 },
  { name: 'unknown method FOO', rfc: 'RFC 9110 §9.1', send: msg('FOO / HTTP/1.1'), status: 501 },
]);
integrity(sync);
silentClose(sync);
special(sync, 'malformed', 'headers stalled past --header-timeout 1: 408, then closed [RFC 9110 §15.5.9]', stalledHead(sync));
noErrors(sync);
sync.test.run();

// ===========================================================================
// A fetch-style app from a peer not trusted with forwarded headers: request.url's
// scheme is the connection's, whatever the target or the headers say.

for (const kind of ['async', 'sync'] as const) {
  const fetchApp = group(`conformance: -k ${kind}, a fetch app, untrusted peer`, {
    kind,
    app: 'fetch-url-app.mjs',
    flags: ['--forwarded-allow-ips', '10.9.9.9'],
    connection: kind === 'sync' ? 'closed' : 'open',
  });
  const urlIs = (url: string) => ([response]: RawResponse[]) => assert.is((JSON.parse(response.text) as { url: string }).url, url);
  wellFormed(fetchApp, [
    { name: 'origin form: the scheme is the connection\'s', rfc: '§3.3', send: get('/a?b=1'), status: 200, check: urlIs('http://x/a?b=1') },
    { name: 'absolute form https://evil.example/x: the authority is the target\'s, the scheme the connection\'s', rfc: '§3.2.2, §3.3', send: msg('GET https://evil.example/x HTTP/1.1'), status: 200, check: urlIs('http://evil.example/x') },
    { name: 'X-Forwarded-Proto: https from an untrusted peer changes nothing', rfc: '--forwarded-allow-ips', send: get('/a', ['X-Forwarded-Proto: https']), status: 200, check: urlIs('http://x/a') },
  ]);
  malformed(fetchApp, [{ name: 'an unparseable absolute-form target (s://]ufd/:)', rfc: '§3.2.2', send: withLength('PUT', 's://]ufd/:', 'abc'), status: 400 }]);
  noErrors(fetchApp);
  fetchApp.test.run();
}

// At least 65 well-formed and 75 malformed cases, whatever edits come later.
const tally = suite('conformance: the table');
tally('has at least 65 well-formed and 75 malformed cases', () => {
  assert.ok(counts.wellFormed >= 65, `${counts.wellFormed} well-formed cases`);
  assert.ok(counts.malformed >= 75, `${counts.malformed} malformed cases`);
});
tally.run();
