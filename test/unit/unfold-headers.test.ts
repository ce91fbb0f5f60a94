// The obs-fold transformer: folds in heads are unfolded, BWS in chunk extensions dropped, bodies and anything odd pass byte for byte.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HeaderUnfolder } from '../../src/http/unfold-headers.js';

/** Everything a socket receives until the server ends it, as latin1 text. */
function readToEnd(socket: Socket): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (text += data));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

const bytes = (text: string) => Buffer.from(text, 'latin1');

/** Feeds the chunks to one fresh unfolder and returns everything it handed on. */
function unfoldChunks(chunks: string[]): string {
  const unfolder = new HeaderUnfolder();
  return Buffer.concat(chunks.map((chunk) => unfolder.push(bytes(chunk)))).toString('latin1');
}

const unfold = (input: string) => unfoldChunks([input]);

/** Every way of cutting the input into two chunks, and into one-byte chunks, gives the one-chunk output. */
function assertSplitsAgree(input: string): void {
  const whole = unfold(input);
  for (let cut = 0; cut <= input.length; cut++) {
    assert.is(unfoldChunks([input.slice(0, cut), input.slice(cut)]), whole, `cut at ${cut} of ${JSON.stringify(input)}`);
  }
  assert.is(unfoldChunks([...input]), whole, `one-byte chunks of ${JSON.stringify(input)}`);
}

const GET = 'GET / HTTP/1.1\r\n';

const FOLDED_CASES: Array<[name: string, input: string, expected: string]> = [
  ['a single fold', `${GET}X-Long: one\r\n two\r\n\r\n`, `${GET}X-Long: one two\r\n\r\n`],
  ['a fold with HTAB', `${GET}X-Long: one\r\n\ttwo\r\nHost: a\r\n\r\n`, `${GET}X-Long: one two\r\nHost: a\r\n\r\n`],
  ['a fold with a mixed whitespace run', `${GET}X-Long: one\r\n \t  two\r\n\r\n`, `${GET}X-Long: one two\r\n\r\n`],
  [
    'several continuation lines',
    `${GET}Host: a\r\nX-Long: one\r\n two\r\n\tthree\r\n  four\r\nX-Next: b\r\n\r\n`,
    `${GET}Host: a\r\nX-Long: one two three four\r\nX-Next: b\r\n\r\n`,
  ],
  ['a continuation line of whitespace only', `${GET}X-Long: one\r\n  \r\nHost: a\r\n\r\n`, `${GET}X-Long: one \r\nHost: a\r\n\r\n`],
  ['a fold in the second pipelined request', `${GET}Host: a\r\n\r\n${GET}X-Long: one\r\n two\r\n\r\n`, `${GET}Host: a\r\n\r\n${GET}X-Long: one two\r\n\r\n`],
  ['leading empty lines before the request', `\r\n\r\n${GET}X-Long: one\r\n two\r\n\r\n`, `\r\n\r\n${GET}X-Long: one two\r\n\r\n`],
  [
    'a Content-Length body holding CRLF SP, then a folded request',
    `POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\na\r\n b${GET}X-Long: one\r\n two\r\n\r\n`,
    `POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\na\r\n b${GET}X-Long: one two\r\n\r\n`,
  ],
  [
    'a folded Content-Length header, then its body',
    `POST / HTTP/1.1\r\nContent-Length:\r\n 5\r\n\r\n\r\n\tab${GET}X-Long: one\r\n two\r\n\r\n`,
    `POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n\r\n\tab${GET}X-Long: one two\r\n\r\n`,
  ],
  [
    'a chunked body holding CRLF HTAB, with an extension and trailers, then a folded request',
    `POST / HTTP/1.1\r\ntransfer-encoding: gzip, Chunked\r\n\r\n4;name=value\r\n\r\n\tx\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n` +
      `${GET}X-Long: one\r\n two\r\n\r\n`,
    `POST / HTTP/1.1\r\ntransfer-encoding: gzip, Chunked\r\n\r\n4;name=value\r\n\r\n\tx\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n` +
      `${GET}X-Long: one two\r\n\r\n`,
  ],
  [
    'a folded Transfer-Encoding header',
    `POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n3\r\n\r\n \r\n0\r\n\r\n${GET}X-Long: one\r\n two\r\n\r\n`,
    `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\r\n \r\n0\r\n\r\n${GET}X-Long: one two\r\n\r\n`,
  ],
];

const CHUNKED = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n';

/** BWS around `;` and `=` in chunk extensions (RFC 9112 §7.1.1), which llhttp refuses, goes; nothing else does. */
const BWS_CASES: Array<[name: string, input: string, expected: string]> = [
  ['SP before ;', `${CHUNKED}3 ;a=b\r\nabc\r\n0\r\n\r\n`, `${CHUNKED}3;a=b\r\nabc\r\n0\r\n\r\n`],
  ['SP after ;', `${CHUNKED}3; a=b\r\nabc\r\n0\r\n\r\n`, `${CHUNKED}3;a=b\r\nabc\r\n0\r\n\r\n`],
  ['SP and HTAB all around', `${CHUNKED}3 \t; \ta \t= \tb\r\nabc\r\n0\t;\tz\r\n\r\n`, `${CHUNKED}3;a=b\r\nabc\r\n0;z\r\n\r\n`],
  ['several extensions, a quoted value kept whole', `${CHUNKED}3 ; a = "x ; y" ; b\r\nabc\r\n0\r\n\r\n`, `${CHUNKED}3;a="x ; y";b\r\nabc\r\n0\r\n\r\n`],
  ['a quoted pair', `${CHUNKED}3;a="x\\" y" ;b\r\nabc\r\n0\r\n\r\n`, `${CHUNKED}3;a="x\\" y";b\r\nabc\r\n0\r\n\r\n`],
  [
    'the chunk data keeps its own " ; " and the next request its own',
    `${CHUNKED}5 ;a\r\n1 ; 2\r\n0\r\n\r\n${GET}X: a ; b\r\n\r\n`,
    `${CHUNKED}5;a\r\n1 ; 2\r\n0\r\n\r\n${GET}X: a ; b\r\n\r\n`,
  ],
  [
    'a Content-Length body that looks like a chunk line',
    `POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\n5 ;a=b\r\n${GET}\r\n`,
    `POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\n5 ;a=b\r\n${GET}\r\n`,
  ],
];

/** Whitespace on a chunk-size line that is not BWS: handed on as it is, for llhttp to refuse. */
const NOT_BWS_CASES: Array<[name: string, input: string]> = [
  ['whitespace and no extension', `${CHUNKED}3 \r\nabc\r\n0\r\n\r\n`],
  ['whitespace after a value', `${CHUNKED}3;a=b \r\nabc\r\n0\r\n\r\n`],
  ['whitespace after a name, then the end of the line', `${CHUNKED}3;a \r\nabc\r\n0\r\n\r\n`],
  ['whitespace inside the size', `${CHUNKED}3 3;a\r\nabc\r\n0\r\n\r\n`],
  ['an open quote', `${CHUNKED}3;a="b\r\nabc\r\n0\r\n\r\n`],
  ['whitespace before the size', `${CHUNKED} 3;a\r\nabc\r\n0\r\n\r\n`],
];

/** Inputs the unfolder gives up on at some point: from there on the bytes are llhttp's to judge. */
const PASSTHROUGH_CASES: Array<[name: string, input: string]> = [
  ['a malformed Content-Length', `POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n${GET}X: a\r\n b\r\n\r\n`],
  ['a repeated Content-Length', `POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz${GET}X: a\r\n b\r\n\r\n`],
  ['both Content-Length and Transfer-Encoding', `POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${GET}X: a\r\n b\r\n\r\n`],
  ['a Transfer-Encoding not ending in chunked', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n${GET}X: a\r\n b\r\n\r\n`],
  ['a chunk size that is not hex', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${GET}X: a\r\n b\r\n\r\n`],
  ['chunk data not followed by CRLF', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n${GET}X: a\r\n b\r\n\r\n`],
  ['a bare LF in a head', `${GET}A: b\nX: a\r\n b\r\n\r\n`],
  ['a bare CR in a head', `${GET}A: b\rc\r\nX: a\r\n b\r\n\r\n`],
  ['a bare CR after a field line', `${GET}A: b\r\r\n b\r\n\r\n`],
  ['a field line without a colon', `${GET}Nonsense\r\nX: a\r\n b\r\n\r\n`],
  ['a field name with whitespace', `POST / HTTP/1.1\r\nContent-Length : 1\r\n\r\nz${GET}X: a\r\n b\r\n\r\n`],
  ['whitespace right after the request line', `${GET} Host: a\r\nX: a\r\n b\r\n\r\n`],
  ['a folded trailer', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: a\r\n b\r\n\r\n${GET}X: a\r\n b\r\n\r\n`],
  ['CONNECT, whose tunnel follows the head', `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n${GET}X: a\r\n b\r\n\r\n`],
  ['an Upgrade with Connection: upgrade', `${GET}Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n${GET}X: a\r\n b\r\n\r\n`],
];

test('folds in a head are replaced by one SP', () => {
  for (const [name, input, expected] of FOLDED_CASES) assert.is(unfold(input), expected, name);
});

test('input without a fold comes out unchanged', () => {
  for (const input of [
    `${GET}Host: a\r\n\r\n`,
    `${GET}\r\n`,
    `POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n${GET}\r\n`,
    `POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc`,
    `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n`,
    `${GET}Upgrade: websocket\r\n\r\n${GET}\r\n`,
  ]) {
    assert.is(unfold(input), input);
  }
});

test('BWS in a chunk extension is dropped; the rest of the line, the data and other messages are left alone', () => {
  for (const [name, input, expected] of BWS_CASES) assert.is(unfold(input), expected, name);
});

test('whitespace on a chunk-size line that is not BWS passes unchanged', () => {
  for (const [name, input] of NOT_BWS_CASES) assert.is(unfold(input), input, name);
  // BWS already dropped before the point of giving up stays dropped: the line is as invalid without it.
  assert.is(unfold(`${CHUNKED}3 ; =b\r\nabc\r\n0\r\n\r\n`), `${CHUNKED}3; =b\r\nabc\r\n0\r\n\r\n`);
});

test('llhttp accepts the chunk lines without their BWS and reads the same body', async () => {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (data: string) => (body += data));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    socket.end(unfold(`${CHUNKED.replace('\r\n\r\n', '\r\nHost: a\r\n\r\n')}3 ; a = "x ; y"\r\nabc\r\n2\t;b\r\nde\r\n0 ; c\r\n\r\n${GET}Host: a\r\nConnection: close\r\n\r\n`), 'latin1');
    const reply = await readToEnd(socket);
    assert.is(reply.match(/HTTP\/1\.1 200/g)?.length, 2, reply);
    assert.equal(bodies, ['abcde', '']);
  } finally {
    server.close();
  }
});

test('without unfolding folds: chunk extensions lose their BWS, a fold makes it give up (for llhttp to refuse)', () => {
  const bwsOnly = (input: string) => new HeaderUnfolder(false).push(bytes(input)).toString('latin1');
  for (const [name, input, expected] of BWS_CASES) assert.is(bwsOnly(input), expected, name);
  for (const [name, input] of FOLDED_CASES) assert.is(bwsOnly(input), input, name);
  const chunkedThenFolded = `${CHUNKED}3 ;a\r\nabc\r\n0\r\n\r\n${GET}X: a\r\n b\r\n\r\n${CHUNKED}3 ;a\r\n`;
  assert.is(bwsOnly(chunkedThenFolded), chunkedThenFolded.replace('3 ;a', '3;a'));
});

test('a read of whole plain heads and Content-Length bodies is handed on as the same buffer, not copied', () => {
  const unfolder = new HeaderUnfolder(false);
  for (const text of [`${GET}Host: a\r\n\r\n`, `POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc${GET}\r\n`, `POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\nabc`, 'defghijkl']) {
    const read = bytes(text);
    assert.ok(unfolder.push(read) === read, JSON.stringify(text));
  }
});

test('bytes of a Content-Length body that look like a chunk-size line keep their whitespace, before and after chunked messages', () => {
  const body = '5 ; a = b\r\n';
  const plain = `POST / HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const input = `${plain}${CHUNKED}3 ; a\r\nabc\r\n0\r\n\r\n${plain}`;
  const expected = `${plain}${CHUNKED}3;a\r\nabc\r\n0\r\n\r\n${plain}`;
  for (const unfoldFolds of [true, false]) {
    assert.is(new HeaderUnfolder(unfoldFolds).push(bytes(input)).toString('latin1'), expected);
    const unfolder = new HeaderUnfolder(unfoldFolds);
    assert.is([...input].map((byte) => unfolder.push(bytes(byte)).toString('latin1')).join(''), expected, 'one-byte chunks');
  }
  assertSplitsAgree(input);
});

test('a chunked message later on a connection loses the BWS of its extensions, whatever came before it', () => {
  const unfolder = new HeaderUnfolder(false);
  const pushed = (text: string) => unfolder.push(bytes(text)).toString('latin1');
  assert.is(pushed(`${GET}Host: a\r\n\r\n`), `${GET}Host: a\r\n\r\n`);
  assert.is(pushed(`POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab`), `POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab`);
  assert.is(pushed(`${CHUNKED}3 ; a = b\r\nabc\r\n0\r\n\r\n`), `${CHUNKED}3;a=b\r\nabc\r\n0\r\n\r\n`);
  assert.is(pushed(`${GET}Host: a\r\n\r\n`), `${GET}Host: a\r\n\r\n`);
});

test('what the unfolder does not understand passes through unchanged from there on', () => {
  for (const [name, input] of PASSTHROUGH_CASES) assert.is(unfold(input), input, name);
});

test('a fold before the point of giving up is still unfolded', () => {
  assert.is(unfold(`${GET}X: a\r\n b\r\nA: b\nY: c\r\n d\r\n\r\n`), `${GET}X: a b\r\nA: b\nY: c\r\n d\r\n\r\n`);
});

test('a head over 1 MiB is passed through unchanged', () => {
  const input = `${GET}X-Big: ${'x'.repeat(1024 * 1024)}\r\n\r\n${GET}X: a\r\n b\r\n\r\n`;
  assert.ok(unfold(input) === input);
  const unfolder = new HeaderUnfolder();
  const pieces = [];
  for (let at = 0; at < input.length; at += 65536) pieces.push(unfolder.push(bytes(input.slice(at, at + 65536))));
  assert.ok(Buffer.concat(pieces).equals(bytes(input)));
});

test('a split at any byte, or one-byte chunks, changes nothing', () => {
  for (const [, input] of [...FOLDED_CASES, ...PASSTHROUGH_CASES, ...BWS_CASES, ...NOT_BWS_CASES]) assertSplitsAgree(input);
});

test('only a possible fold is held back, and released as soon as it is decided', () => {
  const unfolder = new HeaderUnfolder();
  const pushed = (text: string) => unfolder.push(bytes(text)).toString('latin1');
  assert.is(pushed(`${GET}A: b`), `${GET}A: b`);
  assert.is(pushed('\r'), '');
  assert.is(pushed('\n'), '');
  assert.is(pushed(' '), ' ');
  assert.is(pushed('\t c\r\n'), 'c');
  assert.is(pushed('\r'), '\r\n\r');
  assert.is(pushed('\nPOST / HTTP/1.1\r\nContent-Length: 3\r\n'), '\nPOST / HTTP/1.1\r\nContent-Length: 3');
  // The body's own CR LF SP is not a fold, and goes out at once.
  assert.is(pushed('\r\n\r'), '\r\n\r\n\r');
  assert.is(pushed('\n '), '\n ');
  // A bare CR after a held one: both go out unchanged, and everything after them.
  assert.is(pushed(`${GET}A: b\r`), `${GET}A: b`);
  assert.is(pushed('\r\n x'), '\r\r\n x');
  assert.is(pushed('\r\n y'), '\r\n y');
});

test('llhttp accepts the unfolded requests and sees the joined value and the untouched body', async () => {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (data: string) => (body += data));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    socket.end(
      unfold(
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n4\r\n\r\n\tx\r\n0\r\n\r\n' +
          'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Long: one\r\n two\r\n\r\n',
      ),
      'latin1',
    );
    const reply = await readToEnd(socket);
    assert.is(reply.match(/HTTP\/1\.1 200/g)?.length, 2, reply);
    assert.is(received[0]!.body, '\r\n\tx');
    assert.is(received[1]!.headers['x-long'], 'one two');
  } finally {
    server.close();
  }
});

/** A small seeded generator, so a failing fuzz case can be reproduced. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUZZ_PIECES = [
  '\r', '\n', ' ', '\t', '\r\n', '\r\n\r\n', '\r\n ', '\r\n\t', ':', ';', '0', '5', 'a', 'z', 'x',
  GET, 'POST / HTTP/1.1\r\n', 'CONNECT a:1 HTTP/1.1\r\n', 'Host: a\r\n', 'Content-Length: 3\r\n', 'Content-Length: 0\r\n',
  'Transfer-Encoding: chunked\r\n', 'Connection: upgrade\r\n', 'Upgrade: x\r\n', '3\r\nabc\r\n', '0\r\n\r\n', 'T: t\r\n',
];
/** Field lines as sent, and as llhttp should get them. */
const FUZZ_FIELD_LINES: Array<[sent: string, unfolded: string]> = [
  ['Host: a', 'Host: a'],
  ['Accept: */*', 'Accept: */*'],
  ['X-A: one\r\n two', 'X-A: one two'],
  ['X-B:\r\n\t\tb', 'X-B: b'],
  ['X-C: c\r\n \r\n\td', 'X-C: c  d'],
];
const FUZZ_BODY_BYTES = ['\r\n ', '\r\n\t', '\r\n\r\n', 'x', '0\r\n\r\n'];
const FUZZ_MUTATIONS = ['\r', '\n', ' ', '\t', ':', '0', 'x', ';'];

/** A random input, and its expected output when that is known. */
function fuzzInput(random: () => number): { input: string; expected?: string } {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  let input = '';
  if (random() < 0.3) {
    // Loose pieces: mostly given up on early.
    const pieces = 1 + Math.floor(random() * 40);
    for (let piece = 0; piece < pieces; piece++) {
      input += random() < 0.1 ? String.fromCharCode(Math.floor(random() * 256)) : pick(FUZZ_PIECES);
    }
    return { input };
  }
  // Pipelined requests with folds and bodies that look like folds, then maybe a few stray bytes.
  let expected = '';
  const requests = 1 + Math.floor(random() * 4);
  for (let request = 0; request < requests; request++) {
    const body = Array.from({ length: Math.floor(random() * 4) }, () => pick(FUZZ_BODY_BYTES)).join('');
    const fields = Array.from({ length: Math.floor(random() * 4) }, () => pick(FUZZ_FIELD_LINES));
    const framing = random();
    const chunk = body === '' ? '' : `${body.length.toString(16)};x=y\r\n${body}\r\n`;
    const message = (lines: string[]) =>
      framing < 0.33
        ? `POST / HTTP/1.1\r\n${[...lines, `Content-Length: ${body.length}`].join('\r\n')}\r\n\r\n${body}`
        : framing < 0.66
          ? `POST / HTTP/1.1\r\n${[...lines, 'Transfer-Encoding: chunked'].join('\r\n')}\r\n\r\n${chunk}0\r\nT: t\r\n\r\n`
          : `${GET}${lines.map((line) => `${line}\r\n`).join('')}\r\n`;
    input += message(fields.map(([sent]) => sent));
    expected += message(fields.map(([, unfolded]) => unfolded));
  }
  const mutations = Math.floor(random() * 3);
  if (mutations === 0) return { input, expected };
  for (let mutation = 0; mutation < mutations; mutation++) {
    const at = Math.floor(random() * input.length);
    input = input.slice(0, at) + pick(FUZZ_MUTATIONS) + input.slice(at + Math.floor(random() * 2));
  }
  return { input };
}

test('fuzz: never throws, never grows, unfolds what it should, and leaves input without folds unchanged', () => {
  const random = seededRandom(9112);
  for (let round = 0; round < 3000; round++) {
    const { input, expected } = fuzzInput(random);
    const output = unfold(input);
    if (expected !== undefined) assert.is(output, expected, `wrong unfolding: ${JSON.stringify(input)}`);
    assert.ok(output.length <= input.length, `grew: ${JSON.stringify(input)}`);
    if (!/\r\n[ \t]|[ \t][;=]|[;=][ \t]/.test(input)) {
      // At most the CR or CRLF ending the last field line stays held back, waiting for the next byte.
      const heldBack = input.slice(output.length);
      assert.ok(input.startsWith(output) && ['', '\r', '\r\n'].includes(heldBack), `changed without a fold: ${JSON.stringify(input)}`);
      assert.is(unfold(`${input}x`), `${input}x`, `changed without a fold: ${JSON.stringify(input)}`);
    }
    const cut = Math.floor(random() * (input.length + 1));
    const chunks = [input.slice(0, cut), ...(input.slice(cut).match(/[^]{1,3}/g) ?? [])];
    assert.is(unfoldChunks(chunks), output, `chunking changed the output: ${JSON.stringify(input)}`);
    // Without unfolding folds (every connection's mode), a whole read and small pieces agree too.
    const bwsOnly = new HeaderUnfolder(false).push(bytes(input)).toString('latin1');
    const pieces = new HeaderUnfolder(false);
    assert.is(chunks.map((chunk) => pieces.push(bytes(chunk)).toString('latin1')).join(''), bwsOnly, `chunking changed the BWS-only output: ${JSON.stringify(input)}`);
  }
});

test.run();
