// Behind proxies, on real sockets: what the app is told about the client.
//
// A. Forwarded headers (X-Forwarded-For, Forwarded, X-Forwarded-Proto and the
//    secure scheme headers) from peers in --forwarded-allow-ips set the address
//    and scheme that express, koa, fastify, a bare node app and a fetch app see
//    (each without its own trust-proxy setting), and the access log's %(h)s; from
//    other peers they are ignored.
// B. PROXY protocol (v1 and v2) from --proxy-allow-from peers names the client
//    for every request on the connection; malformed headers are answered 400,
//    headers from peers not allowed 403, and the worker carries on.
//
// Each suite boots one corral with one worker and stops it afterwards, failure
// or not; every socket is destroyed and every wait has a deadline.
import http from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, startCorral } from '../helpers/corral-process.js';
import { parseResponse, RawConnection, type RawResponse, rawExchange, toBuffer } from '../helpers/raw-http.js';

const ACCESS_FORMAT = 'proxy-access %(h)s "%(r)s" %(s)s';
const NODE_APPS = fixture('proxy-apps.mjs');
const NODE_APP = fixture('proxy-node.mjs');
const FETCH_APP = fixture('proxy-fetch.mjs');
/** Every framework behind proxy-apps.mjs. */
const FRAMEWORKS = ['/express/who', '/koa/who', '/fastify/who', '/node/who'];
const ONE = ['/who'];
/** Not in any default allow list, but a loopback address this host answers from. */
const OTHER_PEER = '127.0.0.2';

type Scheme = 'http' | 'https';
interface Client {
  ip: string;
  protocol: Scheme;
}
interface Seen {
  framework: string;
  ip?: string;
  protocol?: string;
  port?: number;
  url?: string;
  urlScheme?: string;
  pid: number;
}
type Headers = Record<string, string>;


// ---------------------------------------------------------------- corral per suite

interface Served {
  port: number;
  corral: CorralProcess;
  paths: string[];
}

interface SuiteOptions {
  kind?: string;
  env?: NodeJS.ProcessEnv;
  /** The paths a request can take: one per framework the app serves. */
  paths: string[];
}

/** A uvu suite with its own corral, started before its tests and always stopped after them. */
function corralSuite(name: string, args: string[], { kind = 'async', env = {}, paths }: SuiteOptions) {
  const s = suite(name);
  let corral: CorralProcess | undefined;
  let served: Served | undefined;
  let bootError: unknown;
  s.before(async () => {
    corral = startCorral(['-k', kind, '-w', '1', '-b', '127.0.0.1:0', '--access-logfile', '-', '--access-logformat', ACCESS_FORMAT, ...args], {
      env: { NODE_ENV: 'production', ...env },
    });
    try {
      const [url] = await corral.ready(15_000);
      served = { port: Number(new URL(url).port), corral, paths };
    } catch (error) {
      // uvu would swallow an error thrown here; every test reports it instead.
      bootError = error;
    }
  });
  s.after(async () => {
    await corral?.stop();
  });
  const server = (): Served => {
    if (!served) throw bootError ?? new Error('corral was not started');
    return served;
  };
  return { s, server };
}

/** The last test of every suite: one worker did it all, and logged no error. */
function workerSurvived(s: ReturnType<typeof suite>, server: () => Served) {
  s('the worker that booted served every request and logged no error', async () => {
    const { port, corral, paths } = server();
    const body = await seen(port, paths[0]);
    assert.equal(corral.workerPids(), [body.pid], 'no worker was replaced');
    assert.equal(corral.liveWorkerPids(), [body.pid]);
    const errors = corral.lines.filter((line) => /\[ERROR\]|\[CRITICAL\]|Worker \(pid:\d+\) (?:exited|was)/.test(line));
    assert.equal(errors, [], `unexpected lines:\n${errors.join('\n')}`);
  });
}

// ---------------------------------------------------------------- plain HTTP requests

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One GET on its own connection, optionally from another local address. */
function ask(port: number, path: string, headers: Headers = {}, from?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false, localAddress: from, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function parseSeen(status: number, text: string, what: string): Seen {
  assert.is(status, 200, `${what}: answered ${status}: ${text}`);
  const body = JSON.parse(text) as Seen;
  if (body.framework === 'fetch') {
    assert.is(body.urlScheme, body.protocol, `${what}: the Request URL (${body.url}) and context.client.scheme disagree`);
  }
  return body;
}

async function seen(port: number, path: string, headers: Headers = {}, from?: string): Promise<Seen> {
  const answer = await ask(port, path, headers, from);
  return parseSeen(answer.status, answer.body, `GET ${path} ${JSON.stringify(headers)}${from ? ` from ${from}` : ''}`);
}

const clientOf = (body: Seen) => ({ ip: body.ip, protocol: body.protocol });

/** Every framework at `paths` reports `expected` for a request with `headers`. */
async function expectClient(port: number, paths: string[], headers: Headers, expected: Client, from?: string) {
  for (const path of paths) {
    const body = await seen(port, path, headers, from);
    assert.equal(clientOf(body), expected, `${body.framework} (${path}) given ${JSON.stringify(headers)}${from ? ` from ${from}` : ''}`);
  }
}

/** The access log line of the request tagged `tag`; returns its %(h)s. */
async function loggedHost(corral: CorralProcess, tag: string): Promise<string> {
  const { match } = await corral.waitForLine(new RegExp(`^proxy-access (\\S+) "GET /\\S*[?&]tag=${tag} HTTP/1\\.[01]" \\d{3}$`), { timeoutMs: 5000 });
  return match[1];
}

// ---------------------------------------------------------------- raw connections

const httpGet = (path: string, headers: Headers = {}) =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;

async function onConnection<T>(port: number, use: (conn: RawConnection) => Promise<T>): Promise<T> {
  const conn = await RawConnection.open(port, { deadlineMs: 3000 });
  try {
    return await use(conn);
  } finally {
    conn.destroy();
  }
}

const byteByByte = (bytes: Buffer) => [...bytes].map((byte) => Buffer.from([byte]));

function seenIn(response: RawResponse, what: string): Seen {
  return parseSeen(response.status, response.text, what);
}

/** The connection is answered `status` with Connection: close, then closed, and nothing else comes. */
async function expectRefused(port: number, bytes: Buffer, status: number, from?: string) {
  const { data, closedByServer: closed } = await rawExchange(port, bytes, { localAddress: from });
  const response = data.length > 0 ? parseResponse(data, 0, { eof: closed })?.response : undefined;
  const what = `${JSON.stringify(bytes.toString('latin1').slice(0, 80))}${from ? ` from ${from}` : ''}`;
  assert.ok(response, `${what}: no complete response; got ${JSON.stringify(data.toString('latin1'))}`);
  assert.is(response!.status, status, `${what}: answered ${response!.status} ${response!.reason}: ${response!.text}`);
  assert.is(response!.headers.connection?.toLowerCase(), 'close', `${what}: Connection: close`);
  assert.ok(closed, `${what}: the server did not close the connection`);
  const bytesAnswered = data.toString('latin1');
  assert.is(bytesAnswered.split('HTTP/1.').length - 1, 1, `${what}: exactly one response: ${JSON.stringify(bytesAnswered)}`);
}

// ---------------------------------------------------------------- PROXY headers

const v1 = (line: string) => toBuffer(`${line}\r\n`);
const V1_TCP4 = v1('PROXY TCP4 203.0.113.7 10.0.0.1 51234 443');
const V1_TCP6 = v1('PROXY TCP6 2001:db8::7 2001:db8::1 51234 443');

const V2_SIGNATURE = toBuffer('\r\n\r\n\0\r\nQUIT\n');

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  // A dotted quad at the end (::ffff:192.0.2.1) is the last two groups.
  const quad = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (quad) {
    const [a, b, c, d] = quad[2].split('.').map(Number);
    address = `${quad[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = address.split('::');
  const first = head ? head.split(':') : [];
  const last = tail ? tail.split(':') : [];
  const groups = tail === undefined ? first : [...first, ...Array<string>(8 - first.length - last.length).fill('0'), ...last];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

interface V2Options {
  /** Version (high nibble) and command (low): 0x21 PROXY, 0x20 LOCAL. */
  versionCommand?: number;
  /** Family and transport: 0x11 TCP over IPv4, 0x21 TCP over IPv6, 0x00 UNSPEC. */
  family?: number;
  source?: string;
  destination?: string;
  sourcePort?: number;
  destinationPort?: number;
  /** Bytes after the address block (TLVs). */
  tlv?: Buffer;
}

/** A PROXY protocol v2 header, built byte by byte as the spec lays it out. */
function proxyV2({ versionCommand = 0x21, family = 0x11, source = '203.0.113.7', destination = '10.0.0.1', sourcePort = 51234, destinationPort = 443, tlv = Buffer.alloc(0) }: V2Options = {}): Buffer {
  let addresses = Buffer.alloc(0);
  if (family === 0x11 || family === 0x21) {
    const bytesOf = family === 0x11 ? ipv4Bytes : ipv6Bytes;
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(sourcePort, 0);
    ports.writeUInt16BE(destinationPort, 2);
    addresses = Buffer.concat([bytesOf(source), bytesOf(destination), ports]);
  }
  const fixed = Buffer.alloc(4);
  fixed[0] = versionCommand;
  fixed[1] = family;
  fixed.writeUInt16BE(addresses.length + tlv.length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, addresses, tlv]);
}

const V2_TCP4 = proxyV2();
const V2_TCP6 = proxyV2({ family: 0x21, source: '2001:db8::7', destination: '2001:db8::1' });

/** A PROXY header, then the request, in one write: the client a PROXY header names. */
async function seenThrough(port: number, header: Buffer, path: string, headers: Headers = {}): Promise<Seen> {
  return onConnection(port, async (conn) => {
    await conn.write(Buffer.concat([header, toBuffer(httpGet(path, headers))]));
    return seenIn(await conn.readResponse(), `${path} after ${JSON.stringify(header.toString('latin1'))}`);
  });
}

/**
 * One connection, one PROXY header: three requests one after another, then two
 * pipelined, each answered as coming from the client the header named.
 */
async function proxiedKeepAlive(served: Served, header: Buffer, expected: Client & { port?: number }, tagPrefix: string) {
  const { port, corral, paths } = served;
  const tags: string[] = [];
  const path = (index: number) => {
    const tag = `${tagPrefix}${index}`;
    tags.push(tag);
    return `${paths[index % paths.length]}?tag=${tag}`;
  };
  await onConnection(port, async (conn) => {
    const check = (response: RawResponse, what: string) => {
      const body = seenIn(response, what);
      assert.equal(clientOf(body), { ip: expected.ip, protocol: expected.protocol }, `${what} (${body.framework})`);
      if (expected.port !== undefined) assert.is(body.port, expected.port, `${what} (${body.framework}): the client's port`);
      return body;
    };
    await conn.write(Buffer.concat([header, toBuffer(httpGet(path(0)))]));
    const first = check(await conn.readResponse(), 'request 1, with the header');
    for (const index of [1, 2]) {
      await conn.write(httpGet(path(index)));
      const later = check(await conn.readResponse(), `keep-alive request ${index + 1}`);
      assert.is(later.pid, first.pid);
    }
    await conn.write(httpGet(path(3)) + httpGet(path(4)));
    check(await conn.readResponse(), 'pipelined request 4');
    check(await conn.readResponse(), 'pipelined request 5');
    assert.not.ok(conn.eof, 'the connection stays open');
  });
  for (const tag of tags) assert.is(await loggedHost(corral, tag), expected.ip, `the access log's %(h)s for ${tag}`);
}

// ---------------------------------------------------------------- forwarded headers: the cases

interface Case {
  name: string;
  headers: Headers;
  /** What a trusted proxy's headers make of the request from 127.0.0.1. */
  trusted: Client;
}

const LOCAL: Client = { ip: '127.0.0.1', protocol: 'http' };

const CASES: Case[] = [
  { name: 'no proxy headers', headers: {}, trusted: LOCAL },
  { name: 'X-Forwarded-For with one address', headers: { 'X-Forwarded-For': '203.0.113.5' }, trusted: { ip: '203.0.113.5', protocol: 'http' } },
  {
    name: 'X-Forwarded-For: the rightmost address that is not itself trusted',
    headers: { 'X-Forwarded-For': '198.51.100.9, 203.0.113.5, 127.0.0.1,::1' },
    trusted: { ip: '203.0.113.5', protocol: 'http' },
  },
  { name: 'X-Forwarded-For with an IPv6 address', headers: { 'X-Forwarded-For': '2001:db8::5' }, trusted: { ip: '2001:db8::5', protocol: 'http' } },
  { name: 'X-Forwarded-Proto: https', headers: { 'X-Forwarded-Proto': 'https' }, trusted: { ip: '127.0.0.1', protocol: 'https' } },
  { name: 'X-Forwarded-Protocol: ssl', headers: { 'X-Forwarded-Protocol': 'ssl' }, trusted: { ip: '127.0.0.1', protocol: 'https' } },
  { name: 'X-Forwarded-Ssl: on', headers: { 'X-Forwarded-Ssl': 'on' }, trusted: { ip: '127.0.0.1', protocol: 'https' } },
  { name: 'X-Forwarded-Proto: http', headers: { 'X-Forwarded-Proto': 'http' }, trusted: LOCAL },
  { name: 'X-Forwarded-Proto: https and X-Forwarded-Ssl: on agree', headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Ssl': 'on' }, trusted: { ip: '127.0.0.1', protocol: 'https' } },
  {
    name: 'X-Forwarded-For and X-Forwarded-Proto together',
    headers: { 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'https' },
    trusted: { ip: '203.0.113.5', protocol: 'https' },
  },
  { name: 'Forwarded: for=…;proto=https', headers: { Forwarded: 'for=192.0.2.60;proto=https' }, trusted: { ip: '192.0.2.60', protocol: 'https' } },
  {
    name: 'Forwarded with a quoted IPv6 address and port',
    headers: { Forwarded: 'for="[2001:db8::1]:4711";proto=https' },
    trusted: { ip: '2001:db8::1', protocol: 'https' },
  },
  { name: 'Forwarded with a quoted IPv4 address and port', headers: { Forwarded: 'for="192.0.2.60:8080"' }, trusted: { ip: '192.0.2.60', protocol: 'http' } },
  {
    name: 'Forwarded with several elements: the rightmost not itself trusted',
    headers: { Forwarded: 'for=192.0.2.43, for=198.51.100.17;proto=https, for=127.0.0.1' },
    trusted: { ip: '198.51.100.17', protocol: 'https' },
  },
];

/** Each pair says the opposite of the other about the scheme. */
const CONTRADICTIONS: Headers[] = [
  { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Ssl': 'off' },
  { Forwarded: 'for=192.0.2.60;proto=https', 'X-Forwarded-Proto': 'http' },
  { 'X-Forwarded-Protocol': 'ssl', 'X-Forwarded-Proto': 'http' },
];

async function expectContradictionRefused(port: number, paths: string[]) {
  for (const headers of CONTRADICTIONS) {
    for (const path of paths) {
      const answer = await ask(port, path, headers);
      assert.is(answer.status, 400, `${path} with ${JSON.stringify(headers)}: ${answer.status} ${answer.body}`);
      assert.is(answer.headers.connection, 'close', `${path} with ${JSON.stringify(headers)}: Connection: close`);
    }
  }
}

/** One connection from a trusted proxy, requests of different clients: each sees its own. */
async function forwardedKeepAlive(port: number, paths: string[]) {
  const steps: { headers: Headers; expected: Client }[] = [
    { headers: { 'X-Forwarded-For': '203.0.113.1' }, expected: { ip: '203.0.113.1', protocol: 'http' } },
    { headers: { 'X-Forwarded-For': '203.0.113.2', 'X-Forwarded-Proto': 'https' }, expected: { ip: '203.0.113.2', protocol: 'https' } },
    { headers: {}, expected: LOCAL },
    { headers: { Forwarded: 'for="[2001:db8::3]";proto=https' }, expected: { ip: '2001:db8::3', protocol: 'https' } },
    { headers: { 'X-Forwarded-For': '203.0.113.4' }, expected: { ip: '203.0.113.4', protocol: 'http' } },
  ];
  await onConnection(port, async (conn) => {
    let index = 0;
    const path = () => paths[index++ % paths.length];
    for (const step of steps.slice(0, 3)) {
      await conn.write(httpGet(path(), step.headers));
      const body = seenIn(await conn.readResponse(), JSON.stringify(step.headers));
      assert.equal(clientOf(body), step.expected, `keep-alive request with ${JSON.stringify(step.headers)} (${body.framework})`);
    }
    // Pipelined: both requests parsed before either is answered.
    await conn.write(httpGet(path(), steps[3].headers) + httpGet(path(), steps[4].headers));
    for (const step of steps.slice(3)) {
      const body = seenIn(await conn.readResponse(), JSON.stringify(step.headers));
      assert.equal(clientOf(body), step.expected, `pipelined request with ${JSON.stringify(step.headers)} (${body.framework})`);
    }
    assert.not.ok(conn.eof, 'the connection stays open');
  });
}

/** Registers the trusted-peer tests for an app at the default --forwarded-allow-ips. */
function trustedPeerTests(s: ReturnType<typeof suite>, server: () => Served, cases = CASES) {
  for (const { name, headers, trusted } of cases) {
    s(`from a trusted peer, ${name}`, async () => {
      const { port, paths } = server();
      await expectClient(port, paths, headers, trusted);
    });
  }
  s('from a trusted peer, headers contradicting each other about the scheme are answered 400', async () => {
    const { port, paths } = server();
    await expectContradictionRefused(port, paths);
  });
  s('from a trusted peer, each request on a keep-alive connection sees its own client', async () => {
    const { port, paths } = server();
    await forwardedKeepAlive(port, paths);
  });
  s(`from ${OTHER_PEER}, not in the default list, the headers are ignored`, async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'https' }, { ip: OTHER_PEER, protocol: 'http' }, OTHER_PEER);
    await expectClient(port, paths, { Forwarded: 'for=192.0.2.60;proto=https' }, { ip: OTHER_PEER, protocol: 'http' }, OTHER_PEER);
  });
}

// ================================================================ A. forwarded headers

{
  const { s, server } = corralSuite('async, default --forwarded-allow-ips: express, koa, fastify, node', [NODE_APPS], { paths: FRAMEWORKS });
  trustedPeerTests(s, server);
  s(`from ${OTHER_PEER}, contradicting scheme headers are ignored, not refused`, async () => {
    const { port, paths } = server();
    await expectClient(port, paths, CONTRADICTIONS[0], { ip: OTHER_PEER, protocol: 'http' }, OTHER_PEER);
  });
  // RFC 9110 §5.3: field lines of one name mean the same as one line joined by commas (HAProxy's
  // `option forwardfor`, for one, adds a line of its own rather than appending to the client's).
  for (const [header, first, second] of [
    ['X-Forwarded-For', '198.51.100.9', '127.0.0.1'],
    ['Forwarded', 'for=198.51.100.9', 'for=127.0.0.1'],
  ] as const) {
    s(`${header} over two field lines means what the lines joined by a comma mean`, async () => {
      const { port, paths } = server();
      const joined = await seen(port, paths[3], { [header]: `${first}, ${second}` });
      assert.equal(clientOf(joined), { ip: '198.51.100.9', protocol: 'http' }, 'one line');
      await onConnection(port, async (conn) => {
        for (const path of paths) {
          await conn.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${header}: ${first}\r\n${header}: ${second}\r\n\r\n`);
          const body = seenIn(await conn.readResponse(), path);
          assert.equal(clientOf(body), { ip: '198.51.100.9', protocol: 'http' }, `${body.framework}: ${header}: ${first} then ${header}: ${second}`);
        }
      });
    });
  }
  s("the access log's %(h)s is the client the app saw", async () => {
    const { port, corral } = server();
    const asks: [tag: string, headers: Headers, from: string | undefined, host: string][] = [
      ['fwd-xff', { 'X-Forwarded-For': '198.51.100.9, 203.0.113.5' }, undefined, '203.0.113.5'],
      ['fwd-forwarded', { Forwarded: 'for="[2001:db8::1]:4711";proto=https' }, undefined, '2001:db8::1'],
      ['fwd-none', {}, undefined, '127.0.0.1'],
      ['fwd-untrusted', { 'X-Forwarded-For': '203.0.113.5' }, OTHER_PEER, OTHER_PEER],
    ];
    for (const [tag, headers, from] of asks) await seen(port, `/express/who?tag=${tag}`, headers, from);
    for (const [tag, , , host] of asks) assert.is(await loggedHost(corral, tag), host, `%(h)s of ${tag}`);
  });
  workerSurvived(s, server);
  s.run();
}

{
  const { s, server } = corralSuite('async, default --forwarded-allow-ips: a fetch app', [FETCH_APP], { paths: ONE });
  trustedPeerTests(s, server);
  workerSurvived(s, server);
  s.run();
}

for (const [label, app, paths] of [
  ['express, koa, fastify, node', NODE_APPS, FRAMEWORKS],
  ['a fetch app', FETCH_APP, ONE],
] as const) {
  const { s, server } = corralSuite(`async, --forwarded-allow-ips 10.9.9.9 (127.0.0.1 not trusted): ${label}`, ['--forwarded-allow-ips', '10.9.9.9', app], {
    paths: [...paths],
  });
  s('every proxy header is ignored: the app sees 127.0.0.1 and http', async () => {
    const { port, paths } = server();
    for (const { headers } of CASES) await expectClient(port, paths, headers, LOCAL);
  });
  s('contradicting scheme headers are ignored, not refused', async () => {
    const { port, paths } = server();
    for (const headers of CONTRADICTIONS) await expectClient(port, paths, headers, LOCAL);
  });
  s("the access log's %(h)s is the peer", async () => {
    const { port, corral, paths } = server();
    await seen(port, `${paths[0]}?tag=untrusted-xff`, { 'X-Forwarded-For': '203.0.113.5' });
    assert.is(await loggedHost(corral, 'untrusted-xff'), '127.0.0.1');
  });
  workerSurvived(s, server);
  s.run();
}

{
  const { s, server } = corralSuite('async, --forwarded-allow-ips 127.0.0.0/8', ['--forwarded-allow-ips', '127.0.0.0/8', NODE_APPS], { paths: FRAMEWORKS });
  s('the range trusts the peer, and trusted addresses inside the range are skipped in X-Forwarded-For', async () => {
    const { port, paths } = server();
    // Under the default list 127.0.0.5 is not trusted, so it would be the client.
    await expectClient(port, paths, { 'X-Forwarded-For': '198.51.100.9, 127.0.0.5', 'X-Forwarded-Proto': 'https' }, { ip: '198.51.100.9', protocol: 'https' });
  });
  s(`${OTHER_PEER} is in the range too`, async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Ssl': 'on' }, { ip: '203.0.113.5', protocol: 'https' }, OTHER_PEER);
  });
  s('::1 is not in the range: IPv6 X-Forwarded-For entries of ::1 are the client', async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-For': '203.0.113.5, ::1' }, { ip: '::1', protocol: 'http' });
  });
  workerSurvived(s, server);
  s.run();
}

{
  const { s, server } = corralSuite("async, --forwarded-allow-ips '*'", ['--forwarded-allow-ips', '*', NODE_APPS], { paths: FRAMEWORKS });
  s(`every peer is trusted, ${OTHER_PEER} included`, async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'https' }, { ip: '203.0.113.5', protocol: 'https' }, OTHER_PEER);
    await expectClient(port, paths, { Forwarded: 'for="[2001:db8::1]:4711";proto=https' }, { ip: '2001:db8::1', protocol: 'https' }, OTHER_PEER);
  });
  s('every address in X-Forwarded-For is trusted too: the client is the leftmost', async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-For': '198.51.100.9, 203.0.113.5' }, { ip: '198.51.100.9', protocol: 'http' });
  });
  workerSurvived(s, server);
  s.run();
}

{
  const { s, server } = corralSuite('async, FORWARDED_ALLOW_IPS=127.0.0.1,203.0.113.5 in the environment', [NODE_APPS], {
    paths: FRAMEWORKS,
    env: { FORWARDED_ALLOW_IPS: '127.0.0.1,203.0.113.5' },
  });
  s('the list comes from the environment: 203.0.113.5 is a trusted hop', async () => {
    const { port, paths } = server();
    // With the default list the client would be 203.0.113.5.
    await expectClient(port, paths, { 'X-Forwarded-For': '198.51.100.9, 203.0.113.5', 'X-Forwarded-Proto': 'https' }, { ip: '198.51.100.9', protocol: 'https' });
  });
  s('::1 is not in that list', async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-For': '198.51.100.9, ::1' }, { ip: '::1', protocol: 'http' });
  });
  workerSurvived(s, server);
  s.run();
}

{
  const { s, server } = corralSuite('async, secureSchemeHeaders from a config file (an object)', ['-c', fixture('proxy-config.mjs'), FETCH_APP], { paths: ONE });
  s('the configured header and value mean https', async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Custom-Secure': 'yes' }, { ip: '127.0.0.1', protocol: 'https' });
    await expectClient(port, paths, { 'X-Custom-Secure': 'no' }, LOCAL);
  });
  s('the object replaces the default headers; X-Forwarded-Proto still counts', async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-Ssl': 'on' }, LOCAL);
    await expectClient(port, paths, { 'X-Forwarded-Protocol': 'ssl' }, LOCAL);
    await expectClient(port, paths, { 'X-Forwarded-Proto': 'https' }, { ip: '127.0.0.1', protocol: 'https' });
  });
  s('the configured header contradicting X-Forwarded-Proto is answered 400', async () => {
    const { port, paths } = server();
    const answer = await ask(port, paths[0], { 'X-Custom-Secure': 'yes', 'X-Forwarded-Proto': 'http' });
    assert.is(answer.status, 400, answer.body);
  });
  workerSurvived(s, server);
  s.run();
}

// ================================================================ B. PROXY protocol

const MALFORMED: [name: string, bytes: Buffer][] = [
  ['v1 with a three-part IPv4 address', v1('PROXY TCP4 1.2.3 10.0.0.1 51234 443')],
  ['v1 with port 99999', v1('PROXY TCP4 203.0.113.7 10.0.0.1 99999 443')],
  ['v1 TCP4 naming IPv6 addresses', v1('PROXY TCP4 2001:db8::7 2001:db8::1 51234 443')],
  ['v1 with an unknown protocol', v1('PROXY UDP4 203.0.113.7 10.0.0.1 51234 443')],
  ['v1 with a missing field', v1('PROXY TCP4 203.0.113.7 10.0.0.1 51234')],
  ['v1 over 107 bytes without CRLF', toBuffer(`PROXY TCP4 ${'1'.repeat(120)}`)],
  ['v1 ended by a bare LF', toBuffer('PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\n')],
  ['v2 with version nibble 1', proxyV2({ versionCommand: 0x11 })],
  ['v2 with an unknown command', proxyV2({ versionCommand: 0x2f })],
  ['v2 with an unknown address family', Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x41, 0x00, 0x00])])],
  ['v2 TCP4 with a length too short for its addresses', Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 0x04, 203, 0, 113, 7])])],
];

{
  const { s, server } = corralSuite('async, --proxy-protocol (default --proxy-allow-from)', ['--proxy-protocol', NODE_APPS], { paths: FRAMEWORKS });
  s('v1 TCP4: the named client for every request on the keep-alive connection, pipelined ones included', async () => {
    await proxiedKeepAlive(server(), V1_TCP4, { ip: '203.0.113.7', protocol: 'http' }, 'v1ka');
  });
  s('v1 TCP4: the node app sees the named client port and family', async () => {
    const body = await seenThrough(server().port, V1_TCP4, '/node/who');
    assert.equal({ ip: body.ip, port: body.port, family: (body as Seen & { family?: string }).family }, { ip: '203.0.113.7', port: 51234, family: 'IPv4' });
  });
  s('v1 TCP6', async () => {
    const { port, paths } = server();
    for (const path of paths) assert.equal(clientOf(await seenThrough(port, V1_TCP6, path)), { ip: '2001:db8::7', protocol: 'http' }, path);
  });
  s('v1 UNKNOWN: the real peer', async () => {
    const { port, paths } = server();
    for (const header of [v1('PROXY UNKNOWN'), v1('PROXY UNKNOWN ffff:f...:ffff ffff:f...:ffff 65535 65535')]) {
      for (const path of paths) assert.equal(clientOf(await seenThrough(port, header, path)), LOCAL, `${path} after ${header.toString('latin1').trim()}`);
    }
  });
  s('v2 TCP4 and TCP6, with and without TLVs after the addresses', async () => {
    const { port, paths } = server();
    const tlv = Buffer.from([0x04, 0x00, 0x02, 0xaa, 0xbb]); // PP2_TYPE_NOOP, two bytes
    const headers: [Buffer, string][] = [
      [V2_TCP4, '203.0.113.7'],
      [V2_TCP6, '2001:db8::7'],
      [proxyV2({ tlv }), '203.0.113.7'],
      [proxyV2({ family: 0x21, source: '::ffff:203.0.113.8', destination: '::1' }), '::ffff:203.0.113.8'],
    ];
    for (const [header, ip] of headers) {
      for (const path of paths) assert.equal(clientOf(await seenThrough(port, header, path)), { ip, protocol: 'http' }, `${path} via v2 ${ip}`);
    }
  });
  s('v2 TCP4 on keep-alive: every request, pipelined ones included', async () => {
    await proxiedKeepAlive(server(), V2_TCP4, { ip: '203.0.113.7', protocol: 'http', port: undefined }, 'v2ka');
  });
  s('v2 LOCAL (a health check): the real peer, its address block ignored', async () => {
    const { port, paths } = server();
    for (const header of [proxyV2({ versionCommand: 0x20, family: 0x00 }), proxyV2({ versionCommand: 0x20 })]) {
      for (const path of paths) assert.equal(clientOf(await seenThrough(port, header, path)), LOCAL, path);
    }
  });
  s('a header that arrives byte by byte, then the requests', async () => {
    const { port, paths } = server();
    for (const [header, ip] of [
      [V1_TCP4, '203.0.113.7'],
      [V2_TCP6, '2001:db8::7'],
    ] as const) {
      await onConnection(port, async (conn) => {
        await conn.writeAll(byteByByte(header));
        for (const path of paths) {
          await conn.write(httpGet(path));
          assert.equal(clientOf(seenIn(await conn.readResponse(), path)), { ip, protocol: 'http' }, `${path} after a header written byte by byte`);
        }
      });
    }
  });
  s('a header and the request head split across several writes', async () => {
    const { port } = server();
    await onConnection(port, async (conn) => {
      const bytes = Buffer.concat([V1_TCP4, toBuffer(httpGet('/koa/who'))]);
      await conn.writeAll([bytes.subarray(0, 3), bytes.subarray(3, 30), bytes.subarray(30, V1_TCP4.length + 5), bytes.subarray(V1_TCP4.length + 5)]);
      assert.equal(clientOf(seenIn(await conn.readResponse(), 'split')), { ip: '203.0.113.7', protocol: 'http' });
    });
  });
  s('a connection without a PROXY header from an allowed peer is served as it is', async () => {
    const { port, paths } = server();
    await expectClient(port, paths, {}, LOCAL);
    await onConnection(port, async (conn) => {
      for (const path of paths) {
        await conn.write(httpGet(path));
        assert.equal(clientOf(seenIn(await conn.readResponse(), path)), LOCAL, path);
      }
    });
  });
  for (const [name, bytes] of MALFORMED) {
    s(`malformed: ${name} → 400, Connection: close, closed`, async () => {
      const { port } = server();
      await expectRefused(port, Buffer.concat([bytes, toBuffer(httpGet('/node/who'))]), 400);
    });
  }
  s(`a PROXY header from ${OTHER_PEER} (not in the default --proxy-allow-from) → 403 and closed; a plain request is served`, async () => {
    const { port, paths } = server();
    await expectRefused(port, Buffer.concat([V1_TCP4, toBuffer(httpGet('/node/who'))]), 403, OTHER_PEER);
    await expectRefused(port, Buffer.concat([V2_TCP4, toBuffer(httpGet('/node/who'))]), 403, OTHER_PEER);
    await expectClient(port, paths, {}, { ip: OTHER_PEER, protocol: 'http' }, OTHER_PEER);
  });
  s('PROXY and X-Forwarded-For: the PROXY-named client is not a trusted proxy, so its headers are ignored', async () => {
    const { port, paths } = server();
    for (const path of paths) {
      const body = await seenThrough(port, V1_TCP4, path, { 'X-Forwarded-For': '198.51.100.9', 'X-Forwarded-Proto': 'https' });
      assert.equal(clientOf(body), { ip: '203.0.113.7', protocol: 'http' }, path);
    }
  });
  s("the access log's %(h)s is the PROXY-named client", async () => {
    const { port, corral } = server();
    await seenThrough(port, V1_TCP6, '/fastify/who?tag=pp-v1-6');
    await seenThrough(port, V2_TCP4, '/koa/who?tag=pp-v2-4');
    await seenThrough(port, v1('PROXY UNKNOWN'), '/express/who?tag=pp-unknown');
    assert.is(await loggedHost(corral, 'pp-v1-6'), '2001:db8::7');
    assert.is(await loggedHost(corral, 'pp-v2-4'), '203.0.113.7');
    assert.is(await loggedHost(corral, 'pp-unknown'), '127.0.0.1');
  });
  workerSurvived(s, server);
  s.run();
}

{
  const { s, server } = corralSuite('async, --proxy-protocol --forwarded-allow-ips 203.0.113.7', ['--proxy-protocol', '--forwarded-allow-ips', '203.0.113.7', NODE_APPS], {
    paths: FRAMEWORKS,
  });
  s('the PROXY-named client is a trusted proxy: its X-Forwarded-For and X-Forwarded-Proto apply, on every keep-alive request', async () => {
    const { port, paths } = server();
    await onConnection(port, async (conn) => {
      await conn.write(V1_TCP4);
      for (const [index, path] of paths.entries()) {
        await conn.write(httpGet(path, { 'X-Forwarded-For': `198.51.100.${index + 1}`, 'X-Forwarded-Proto': 'https' }));
        assert.equal(clientOf(seenIn(await conn.readResponse(), path)), { ip: `198.51.100.${index + 1}`, protocol: 'https' }, path);
      }
      await conn.write(httpGet(paths[0]));
      assert.equal(clientOf(seenIn(await conn.readResponse(), 'no headers')), { ip: '203.0.113.7', protocol: 'http' });
    });
  });
  s('without a PROXY header the peer 127.0.0.1 is not trusted: headers ignored', async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-For': '198.51.100.9', 'X-Forwarded-Proto': 'https' }, LOCAL);
  });
  workerSurvived(s, server);
  s.run();
}

{
  const { s, server } = corralSuite('async, --proxy-protocol --proxy-allow-from 10.9.9.9', ['--proxy-protocol', '--proxy-allow-from', '10.9.9.9', NODE_APPS], {
    paths: FRAMEWORKS,
  });
  s('a PROXY header from a peer not allowed → 403, Connection: close, closed', async () => {
    const { port } = server();
    await expectRefused(port, Buffer.concat([V1_TCP4, toBuffer(httpGet('/node/who'))]), 403);
    await expectRefused(port, Buffer.concat([V2_TCP6, toBuffer(httpGet('/node/who'))]), 403);
  });
  s('a header split byte by byte from a peer not allowed → 403 too', async () => {
    const { port } = server();
    await onConnection(port, async (conn) => {
      await conn.writeAll(byteByByte(V1_TCP4));
      const response = await conn.readResponse();
      assert.is(response.status, 403);
      assert.ok(await conn.waitForClose(2000), 'closed');
    });
  });
  s('a plain request from that peer is served', async () => {
    const { port, paths } = server();
    await expectClient(port, paths, {}, LOCAL);
    await expectClient(port, paths, { 'X-Forwarded-For': '203.0.113.5' }, { ip: '203.0.113.5', protocol: 'http' });
  });
  workerSurvived(s, server);
  s.run();
}

// ================================================================ other kinds

const THREAD_CASES = CASES.filter(({ name }) =>
  ['no proxy headers', 'X-Forwarded-For and X-Forwarded-Proto together', 'Forwarded with a quoted IPv6 address and port', 'X-Forwarded-Ssl: on', 'X-Forwarded-For: the rightmost address that is not itself trusted'].includes(name),
);

for (const [label, app] of [
  ['a fetch app', FETCH_APP],
  ['a node-style app', NODE_APP],
] as const) {
  const { s, server } = corralSuite(`-k thread --proxy-protocol: ${label}`, ['--proxy-protocol', app], { kind: 'thread', paths: ONE });
  trustedPeerTests(s, server, THREAD_CASES);
  s('PROXY v1 on keep-alive: every request, pipelined ones included, sees the named client', async () => {
    await proxiedKeepAlive(server(), V1_TCP4, { ip: '203.0.113.7', protocol: 'http', port: app === FETCH_APP ? 51234 : undefined }, `thread-${app === FETCH_APP ? 'f' : 'n'}-v1-`);
  });
  s('PROXY v2 TCP6 on keep-alive', async () => {
    await proxiedKeepAlive(server(), V2_TCP6, { ip: '2001:db8::7', protocol: 'http' }, `thread-${app === FETCH_APP ? 'f' : 'n'}-v2-`);
  });
  s('a malformed PROXY header → 400, closed', async () => {
    const { port } = server();
    await expectRefused(port, Buffer.concat([MALFORMED[1][1], toBuffer(httpGet('/who'))]), 400);
  });
  s("X-Forwarded-For: the access log's %(h)s is the client the app saw", async () => {
    const { port, corral } = server();
    const tag = `thread-${app === FETCH_APP ? 'f' : 'n'}-xff`;
    await seen(port, `/who?tag=${tag}`, { 'X-Forwarded-For': '203.0.113.5' });
    assert.is(await loggedHost(corral, tag), '203.0.113.5');
  });
  workerSurvived(s, server);
  s.run();
}

{
  const { s, server } = corralSuite('-k sync --proxy-protocol: express, koa, fastify, node', ['--proxy-protocol', NODE_APPS], { kind: 'sync', paths: FRAMEWORKS });
  for (const { name, headers, trusted } of THREAD_CASES) {
    s(`from a trusted peer, ${name}`, async () => {
      const { port, paths } = server();
      await expectClient(port, paths, headers, trusted);
    });
  }
  s(`from ${OTHER_PEER}, the headers are ignored`, async () => {
    const { port, paths } = server();
    await expectClient(port, paths, { 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'https' }, { ip: OTHER_PEER, protocol: 'http' }, OTHER_PEER);
  });
  s('contradicting scheme headers → 400', async () => {
    const { port, paths } = server();
    await expectContradictionRefused(port, paths.slice(0, 1));
  });
  s('PROXY v1 and v2: the named client, and %(h)s in the access log', async () => {
    const { port, paths, corral } = server();
    for (const path of paths) {
      assert.equal(clientOf(await seenThrough(port, V1_TCP4, `${path}?tag=sync-v1${paths.indexOf(path)}`)), { ip: '203.0.113.7', protocol: 'http' }, path);
      assert.equal(clientOf(await seenThrough(port, V2_TCP6, path)), { ip: '2001:db8::7', protocol: 'http' }, path);
    }
    assert.is(await loggedHost(corral, 'sync-v10'), '203.0.113.7');
  });
  s('a malformed PROXY header → 400, closed; a PROXY header from a peer not allowed → 403', async () => {
    const { port } = server();
    await expectRefused(port, Buffer.concat([MALFORMED[0][1], toBuffer(httpGet('/node/who'))]), 400);
    await expectRefused(port, Buffer.concat([proxyV2({ versionCommand: 0x11 }), toBuffer(httpGet('/node/who'))]), 400);
    await expectRefused(port, Buffer.concat([V1_TCP4, toBuffer(httpGet('/node/who'))]), 403, OTHER_PEER);
  });
  workerSurvived(s, server);
  s.run();
}
