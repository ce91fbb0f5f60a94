// The PROXY protocol header parser: v1 lines and v2 blocks built by hand, every
// truncation of them, malformed variants, and random bytes that must never throw.
import { SocketAddress } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ProxyHeaderResult, parseProxyHeader } from '../../src/http/proxy-protocol.js';

const HTTP = 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n';
const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

const parse = (text: string) => parseProxyHeader(Buffer.from(text, 'latin1'));

function v2(options: { verCmd?: number; fam?: number; body?: Buffer; declaredLength?: number }): Buffer {
  const body = options.body ?? Buffer.alloc(0);
  const fixed = Buffer.alloc(4);
  fixed[0] = options.verCmd ?? 0x21;
  fixed[1] = options.fam ?? 0x00;
  fixed.writeUInt16BE(options.declaredLength ?? body.length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, body]);
}

function v2Tcp4(source: [number, number, number, number], destination: [number, number, number, number], sourcePort: number, destinationPort: number, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return v2({ fam: 0x11, body: Buffer.concat([Buffer.from(source), Buffer.from(destination), ports, tlvs]) });
}

function v2Tcp6(source: Buffer, destination: Buffer, sourcePort: number, destinationPort: number, fam = 0x21): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return v2({ fam, body: Buffer.concat([source, destination, ports]) });
}

/** 16 bytes of an IPv6 address from its eight groups. */
function ipv6(...groups: number[]): Buffer {
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(group, 2 * i));
  return bytes;
}

function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

function assertInvalid(result: ProxyHeaderResult, reason: RegExp, input = ''): void {
  assert.is(result.kind, 'invalid', `expected invalid for ${JSON.stringify(input)}, got ${JSON.stringify(result)}`);
  if (result.kind === 'invalid') assert.match(result.reason, reason);
}

/** Every proper prefix of a complete header is a valid prefix, so "incomplete". */
function assertEveryPrefixIncomplete(header: Buffer): void {
  for (let cut = 0; cut < header.length; cut++) {
    const result = parseProxyHeader(header.subarray(0, cut));
    assert.equal(result, { kind: 'incomplete' }, `prefix of ${cut} bytes`);
  }
}

// ---- v1 ----

test('v1 TCP4 gives both addresses and the line length', () => {
  const line = 'PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\n';
  assert.equal(parse(line + HTTP), {
    kind: 'header',
    length: line.length,
    version: 1,
    source: { address: '192.168.0.1', port: 56324, family: 'IPv4' },
    destination: { address: '10.0.0.2', port: 443, family: 'IPv4' },
  });
});

test('v1 TCP6 gives both addresses as written', () => {
  const line = 'PROXY TCP6 2001:db8::1 ::1 0 65535\r\n';
  assert.equal(parse(line), {
    kind: 'header',
    length: line.length,
    version: 1,
    source: { address: '2001:db8::1', port: 0, family: 'IPv6' },
    destination: { address: '::1', port: 65535, family: 'IPv6' },
  });
});

test('v1 TCP6 accepts an IPv4-mapped address', () => {
  const result = parse('PROXY TCP6 ::ffff:1.2.3.4 ::ffff:5.6.7.8 1 2\r\n');
  assert.is(result.kind, 'header');
  if (result.kind === 'header') assert.equal(result.source, { address: '::ffff:1.2.3.4', port: 1, family: 'IPv6' });
});

test('v1 UNKNOWN, bare or with anything after it, gives no addresses', () => {
  assert.equal(parse('PROXY UNKNOWN\r\n'), { kind: 'header', length: 15, version: 1 });
  const line = 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n';
  assert.equal(parse(line + HTTP), { kind: 'header', length: line.length, version: 1 });
});

test('v1 at the 107-byte limit is accepted; one byte more is refused', () => {
  const longest = 'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
  assert.is(longest.length, 104);
  const atLimit = `PROXY UNKNOWN ${'x'.repeat(107 - 16)}\r\n`;
  assert.is(atLimit.length, 107);
  assert.is(parse(longest).kind, 'header');
  assert.equal(parse(atLimit), { kind: 'header', length: 107, version: 1 });
  const overLimit = `PROXY UNKNOWN ${'x'.repeat(107 - 15)}\r\n`;
  assertInvalid(parse(overLimit), /longer than 107/, overLimit);
});

test('v1 without CRLF in its first 107 bytes is refused once 107 bytes are in', () => {
  const noEnd = `PROXY UNKNOWN ${'x'.repeat(200)}`;
  assert.equal(parse(noEnd.slice(0, 106)), { kind: 'incomplete' });
  assertInvalid(parse(noEnd.slice(0, 107)), /longer than 107/);
  assertInvalid(parse(noEnd), /longer than 107/);
  // A CR as the 107th byte cannot be followed by an LF in bounds.
  assertInvalid(parse(`${noEnd.slice(0, 106)}\r\n`), /longer than 107/);
});

test('every prefix of a v1 line is incomplete', () => {
  assertEveryPrefixIncomplete(Buffer.from('PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\n'));
  assertEveryPrefixIncomplete(Buffer.from('PROXY TCP6 2001:db8::1 ::1 0 65535\r\n'));
  assertEveryPrefixIncomplete(Buffer.from('PROXY UNKNOWN\r\n'));
});

const MALFORMED_V1: [string, RegExp][] = [
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', /bare LF/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX', /CR not followed by LF/],
  ['PROXY UNKNOWN\n', /bare LF/],
  ['PROXY \r\n', /unknown protocol/],
  ['PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol/],
  ['PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol/],
  ['PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol/],
  ['PROXY UNKNOWNX\r\n', /unknown protocol/],
  ['PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol/],
  ['PROXY TCP4\r\n', /wrong number of fields/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', /wrong number of fields/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', /wrong number of fields/],
  ['PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', /exactly one space/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n', /exactly one space/],
  ['PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n', /wrong number of fields/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n', /exactly one space/],
  ['PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n', /bad source address/],
  ['PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n', /bad source address/],
  ['PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n', /bad source address/],
  ['PROXY TCP4 ::1 5.6.7.8 1 2\r\n', /bad source address/],
  ['PROXY TCP4 localhost 5.6.7.8 1 2\r\n', /bad source address/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8.9 1 2\r\n', /bad destination address/],
  ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', /bad source address/],
  ['PROXY TCP6 ::1 5.6.7.8 1 2\r\n', /bad destination address/],
  ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', /bad source address/],
  ['PROXY TCP6 [::1] ::1 1 2\r\n', /bad source address/],
  ['PROXY TCP6 2001:db8:::1 ::1 1 2\r\n', /bad source address/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', /bad source port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n', /bad source port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n', /bad source port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n', /bad source port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n', /bad source port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n', /bad source port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1e3 2\r\n', /bad source port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n', /bad source port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n', /bad destination port/],
  ['PROXY TCP4 1.2.3.4 5.6.7.8 1 80a\r\n', /bad destination port/],
];

test(`v1 malformed lines are refused with a reason (${MALFORMED_V1.length} variants)`, () => {
  for (const [line, reason] of MALFORMED_V1) assertInvalid(parse(line + HTTP), reason, line);
});

// ---- v2 ----

test('v2 PROXY TCP4 gives both addresses, and length leaves what follows untouched', () => {
  const header = v2Tcp4([192, 168, 0, 1], [10, 0, 0, 2], 56324, 443);
  const bytes = Buffer.concat([header, Buffer.from(HTTP)]);
  const result = parseProxyHeader(bytes);
  assert.equal(result, {
    kind: 'header',
    length: 28,
    version: 2,
    source: { address: '192.168.0.1', port: 56324, family: 'IPv4' },
    destination: { address: '10.0.0.2', port: 443, family: 'IPv4' },
  });
  if (result.kind === 'header') assert.is(bytes.subarray(result.length).toString(), HTTP);
});

test('v2 UDP4 reads the same address block as TCP4', () => {
  const header = v2({ fam: 0x12, body: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 0, 53, 0, 54]) });
  assert.equal(parseProxyHeader(header), {
    kind: 'header',
    length: 28,
    version: 2,
    source: { address: '1.2.3.4', port: 53, family: 'IPv4' },
    destination: { address: '5.6.7.8', port: 54, family: 'IPv4' },
  });
});

test('v2 PROXY TCP6 gives both addresses as node writes them', () => {
  const header = v2Tcp6(ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), ipv6(0, 0, 0, 0, 0, 0, 0, 1), 1234, 80);
  assert.equal(parseProxyHeader(Buffer.concat([header, Buffer.from(HTTP)])), {
    kind: 'header',
    length: 52,
    version: 2,
    source: { address: '2001:db8::1', port: 1234, family: 'IPv6' },
    destination: { address: '::1', port: 80, family: 'IPv6' },
  });
});

test('v2 UDP6 and an IPv4-mapped source', () => {
  const header = v2Tcp6(ipv6(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304), ipv6(0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0), 1, 2, 0x22);
  const result = parseProxyHeader(header);
  assert.is(result.kind, 'header');
  if (result.kind !== 'header') return;
  assert.equal(result.source, { address: '::ffff:1.2.3.4', port: 1, family: 'IPv6' });
  assert.equal(result.destination, { address: 'fe80::abcd:0:0:0', port: 2, family: 'IPv6' });
});

test('v2 IPv6 formatting matches node for addresses full of zero runs', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pickGroup = () => (random() < 0.6 ? 0 : random() < 0.1 ? 0xffff : Math.floor(random() * 0x10000));
  for (let round = 0; round < 2000; round++) {
    const source = ipv6(...Array.from({ length: 8 }, pickGroup));
    const destination = ipv6(...Array.from({ length: 8 }, pickGroup));
    const result = parseProxyHeader(v2Tcp6(source, destination, 1, 2));
    if (result.kind !== 'header') assert.unreachable(`expected a header, got ${result.kind}`);
    else {
      const expected = (bytes: Buffer) => new SocketAddress({ address: formatUncompressed(bytes), family: 'ipv6' }).address;
      assert.is(result.source?.address, expected(source), formatUncompressed(source));
      assert.is(result.destination?.address, expected(destination), formatUncompressed(destination));
    }
  }
});

function formatUncompressed(bytes: Buffer): string {
  return Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(2 * i).toString(16)).join(':');
}

test('v2 LOCAL gives a header without addresses, whatever its family and length', () => {
  assert.equal(parseProxyHeader(v2({ verCmd: 0x20 })), { kind: 'header', length: 16, version: 2 });
  const withBlock = v2({ verCmd: 0x20, fam: 0x11, body: Buffer.alloc(12) });
  assert.equal(parseProxyHeader(withBlock), { kind: 'header', length: 28, version: 2 });
  // The spec has LOCAL's family discarded, so even a nonsense one is not checked.
  assert.equal(parseProxyHeader(v2({ verCmd: 0x20, fam: 0x77, body: Buffer.alloc(3) })), { kind: 'header', length: 19, version: 2 });
});

test('v2 PROXY with UNSPEC gives no addresses and skips what the length covers', () => {
  assert.equal(parseProxyHeader(v2({ fam: 0x00 })), { kind: 'header', length: 16, version: 2 });
  const bytes = Buffer.concat([v2({ fam: 0x00, body: Buffer.alloc(10, 0xaa) }), Buffer.from(HTTP)]);
  assert.equal(parseProxyHeader(bytes), { kind: 'header', length: 26, version: 2 });
});

test('v2 UNIX stream and datagram give no addresses', () => {
  const paths = Buffer.alloc(216);
  paths.write('/run/client.sock', 0);
  paths.write('/run/server.sock', 108);
  assert.equal(parseProxyHeader(v2({ fam: 0x31, body: paths })), { kind: 'header', length: 232, version: 2 });
  assert.equal(parseProxyHeader(v2({ fam: 0x32, body: paths })), { kind: 'header', length: 232, version: 2 });
});

test('v2 TLVs after the address block are skipped, and what follows is untouched', () => {
  const tlvs = Buffer.concat([tlv(0x01, Buffer.from('h2')), tlv(0x02, Buffer.from('example.com')), tlv(0x04, Buffer.alloc(0)), tlv(0x20, Buffer.from([0x01, 0, 0, 0, 0]))]);
  const header = v2Tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1000, 2000, tlvs);
  const bytes = Buffer.concat([header, Buffer.from(HTTP)]);
  const result = parseProxyHeader(bytes);
  assert.is(result.kind, 'header');
  if (result.kind !== 'header') return;
  assert.is(result.length, 28 + tlvs.length);
  assert.is(bytes.subarray(result.length).toString(), HTTP);
  assert.equal(result.source, { address: '1.2.3.4', port: 1000, family: 'IPv4' });
  assert.equal(result.destination, { address: '5.6.7.8', port: 2000, family: 'IPv4' });
});

test('every prefix of a v2 header is incomplete', () => {
  assertEveryPrefixIncomplete(v2Tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
  assertEveryPrefixIncomplete(v2Tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2, tlv(0x02, Buffer.from('example.com'))));
  assertEveryPrefixIncomplete(v2Tcp6(ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), ipv6(0, 0, 0, 0, 0, 0, 0, 1), 1, 2));
  assertEveryPrefixIncomplete(v2({ verCmd: 0x20, fam: 0x11, body: Buffer.alloc(12) }));
  assertEveryPrefixIncomplete(v2({ fam: 0x31, body: Buffer.alloc(216) }));
});

test('v2 with a version other than 2 is refused as soon as that byte arrives', () => {
  for (const verCmd of [0x01, 0x11, 0x31, 0xf1]) {
    const header = v2({ verCmd, fam: 0x11, body: Buffer.alloc(12) });
    assertInvalid(parseProxyHeader(header), /unsupported version/);
    assertInvalid(parseProxyHeader(header.subarray(0, 13)), /unsupported version/);
  }
});

test('v2 with a command other than LOCAL or PROXY is refused', () => {
  for (const verCmd of [0x22, 0x2f]) assertInvalid(parseProxyHeader(v2({ verCmd, fam: 0x11, body: Buffer.alloc(12) }).subarray(0, 13)), /unknown command/);
});

test('v2 PROXY with an unknown family byte is refused', () => {
  for (const fam of [0x01, 0x10, 0x13, 0x23, 0x30, 0x41, 0xff]) assertInvalid(parseProxyHeader(v2({ fam, body: Buffer.alloc(216) }).subarray(0, 14)), /unknown address family/);
});

test('v2 whose declared length is too short for its family is refused before the body arrives', () => {
  const cases: [number, number][] = [[0x11, 11], [0x12, 0], [0x21, 35], [0x22, 12], [0x31, 215], [0x32, 36]];
  for (const [fam, declaredLength] of cases) {
    const fixedPart = v2({ fam, declaredLength });
    assertInvalid(parseProxyHeader(fixedPart), /too short for its address family/);
  }
});

// ---- not a PROXY header ----

test('ordinary traffic is "none" as soon as a byte differs from both signatures', () => {
  for (const text of ['GET / HTTP/1.1\r\n', 'POST /', 'G', 'PX', 'PROXY\r\n', 'proxy TCP4', '\r\n\r\nGET', '\n', '\x16\x03\x01']) {
    assert.equal(parse(text), { kind: 'none' }, JSON.stringify(text));
  }
  assert.equal(parseProxyHeader(Buffer.concat([V2_SIGNATURE.subarray(0, 11), Buffer.from('X')])), { kind: 'none' });
});

test('the start of either signature is incomplete', () => {
  for (const text of ['', 'P', 'PR', 'PRO', 'PROX', 'PROXY', 'PROXY ', '\r', '\r\n', '\r\n\r\n\0\r\nQUI', '\r\n\r\n\0\r\nQUIT\n']) {
    assert.equal(parse(text), { kind: 'incomplete' }, JSON.stringify(text));
  }
});

// ---- robustness ----

test('never throws, on random bytes or on truncated and mutated headers', () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const randomBytes = (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
  const valid = [
    Buffer.from('PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\n'),
    Buffer.from('PROXY TCP6 2001:db8::1 ::1 0 65535\r\n'),
    Buffer.from('PROXY UNKNOWN\r\n'),
    v2Tcp4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2, tlv(0x02, Buffer.from('example.com'))),
    v2Tcp6(ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), ipv6(0, 0, 0, 0, 0, 0, 0, 1), 1, 2),
    v2({ verCmd: 0x20 }),
    v2({ fam: 0x31, body: Buffer.alloc(216) }),
  ];
  const kinds = new Set(['incomplete', 'invalid', 'none', 'header']);
  const seen = new Set<string>();
  for (let round = 0; round < 5000; round++) {
    let bytes: Buffer;
    const pick = random();
    if (pick < 0.3) bytes = randomBytes(Math.floor(random() * 300));
    else {
      const base = valid[Math.floor(random() * valid.length)];
      // Random bytes after a signature reach deeper than bytes random from the first.
      bytes = pick < 0.4 ? Buffer.concat([base.subarray(0, 13), randomBytes(Math.floor(random() * 250))]) : Buffer.from(base);
      const mutations = Math.floor(random() * 4);
      for (let m = 0; m < mutations && bytes.length > 0; m++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      bytes = bytes.subarray(0, Math.floor(random() * (bytes.length + 1)));
    }
    let result: ProxyHeaderResult | undefined;
    try {
      result = parseProxyHeader(bytes);
    } catch (error) {
      assert.unreachable(`threw on ${bytes.toString('hex')}: ${String(error)}`);
    }
    assert.ok(result && kinds.has(result.kind), `odd result on ${bytes.toString('hex')}`);
    seen.add(result!.kind);
    if (result?.kind === 'header') assert.ok(result.length > 0 && result.length <= bytes.length, 'header length within the bytes');
  }
  assert.equal([...seen].sort(), [...kinds].sort(), 'the fuzzing reached every kind of result');
});

test.run();
