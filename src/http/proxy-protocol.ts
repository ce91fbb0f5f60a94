// Behind a TCP load balancer (HAProxy, AWS NLB, ...) every connection's peer is
// the balancer, so the client's own address is lost unless the balancer sends it
// ahead of the traffic as a PROXY protocol header (v1 text or v2 binary, see
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt). This reads that
// header from a connection's first bytes: pure, so the socket code can call it
// again as bytes arrive, strip `length` bytes, and report the real client.
import { isIP } from 'node:net';

export interface ProxyAddress { address: string; port: number; family: 'IPv4' | 'IPv6' }

export type ProxyHeaderResult =
  /** A valid prefix so far; need more bytes. */
  | { kind: 'incomplete' }
  /** Malformed; `reason` is a short phrase for a log line. */
  | { kind: 'invalid'; reason: string }
  /** The bytes do not start with a PROXY signature at all (ordinary HTTP). */
  | { kind: 'none' }
  /**
   * `length` is how many bytes the header occupies, so what to strip. No addresses
   * for v1 UNKNOWN, the v2 LOCAL command (a balancer's own health check), or v2
   * UNSPEC/UNIX: there is no client address a TCP peer could have.
   */
  | { kind: 'header'; length: number; version: 1 | 2; source?: ProxyAddress; destination?: ProxyAddress };

const CR = 0x0d;
const LF = 0x0a;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The spec's bound on a v1 line, CRLF included: the longest TCP6 line fits. */
const V1_MAX_LENGTH = 107;

const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
/** Signature, version-and-command byte, family byte, 2-byte length of the rest. */
const V2_FIXED_LENGTH = 16;
const V2_VERSION = 2;
const V2_COMMAND_LOCAL = 0;
const V2_COMMAND_PROXY = 1;

/** What each valid v2 family-and-transport byte says of the address block after the fixed part. */
interface AddressBlock { size: number; family?: ProxyAddress['family'] }
const NO_ADDRESSES: AddressBlock = { size: 0 };
const V2_ADDRESS_BLOCKS = new Map<number, AddressBlock>([
  [0x00, NO_ADDRESSES], // UNSPEC
  [0x11, { size: 12, family: 'IPv4' }], // TCP over IPv4
  [0x12, { size: 12, family: 'IPv4' }], // UDP over IPv4
  [0x21, { size: 36, family: 'IPv6' }], // TCP over IPv6
  [0x22, { size: 36, family: 'IPv6' }], // UDP over IPv6
  [0x31, { size: 216 }], // UNIX stream: two 108-byte paths, no address to report
  [0x32, { size: 216 }], // UNIX datagram
]);

/** Reads a PROXY header from the start of `bytes`; never throws, whatever the bytes. */
export function parseProxyHeader(bytes: Buffer): ProxyHeaderResult {
  // The two signatures differ in their first byte, so at most one of these holds
  // (both, for no bytes at all, and then either answers "incomplete").
  if (startsLike(bytes, V1_PREFIX)) return parseV1(bytes);
  if (startsLike(bytes, V2_SIGNATURE)) return parseV2(bytes);
  return { kind: 'none' };
}

/** Whether the bytes present agree with `signature`, so far as they go. */
function startsLike(bytes: Buffer, signature: Buffer): boolean {
  const compared = Math.min(bytes.length, signature.length);
  return bytes.subarray(0, compared).equals(signature.subarray(0, compared));
}

function invalid(reason: string): ProxyHeaderResult {
  return { kind: 'invalid', reason };
}

function parseV1(bytes: Buffer): ProxyHeaderResult {
  // The line is judged whole once its CRLF arrives; until then only its framing.
  const searched = Math.min(bytes.length, V1_MAX_LENGTH);
  for (let i = V1_PREFIX.length; i < searched; i++) {
    if (bytes[i] === LF) return invalid('PROXY v1 line has a bare LF');
    if (bytes[i] !== CR) continue;
    if (i + 1 === V1_MAX_LENGTH) break; // its LF would be byte 108
    if (i + 1 === bytes.length) return { kind: 'incomplete' };
    if (bytes[i + 1] !== LF) return invalid('PROXY v1 line has a CR not followed by LF');
    return parseV1Line(bytes.toString('latin1', V1_PREFIX.length, i), i + 2);
  }
  return bytes.length >= V1_MAX_LENGTH ? invalid('PROXY v1 line is longer than 107 bytes') : { kind: 'incomplete' };
}

/** `line` is what follows "PROXY " up to the CRLF; `length` is the whole line's. */
function parseV1Line(line: string, length: number): ProxyHeaderResult {
  const fields = line.split(' ');
  // UNKNOWN may be followed by anything, which the receiver must ignore.
  if (fields[0] === 'UNKNOWN') return { kind: 'header', length, version: 1 };
  const family = fields[0] === 'TCP4' ? 'IPv4' : fields[0] === 'TCP6' ? 'IPv6' : undefined;
  if (!family) return invalid('PROXY v1 line has an unknown protocol');
  if (fields.includes('')) return invalid('PROXY v1 line does not have exactly one space between fields');
  if (fields.length !== 5) return invalid('PROXY v1 line has the wrong number of fields');
  const [, sourceAddress, destinationAddress, sourcePort, destinationPort] = fields;
  if (!isAddressOf(family, sourceAddress)) return invalid('PROXY v1 line has a bad source address');
  if (!isAddressOf(family, destinationAddress)) return invalid('PROXY v1 line has a bad destination address');
  const source = parsePort(sourcePort);
  if (source === undefined) return invalid('PROXY v1 line has a bad source port');
  const destination = parsePort(destinationPort);
  if (destination === undefined) return invalid('PROXY v1 line has a bad destination port');
  return {
    kind: 'header',
    length,
    version: 1,
    source: { address: sourceAddress, port: source, family },
    destination: { address: destinationAddress, port: destination, family },
  };
}

function isAddressOf(family: ProxyAddress['family'], text: string): boolean {
  // node accepts an IPv6 zone ("fe80::1%eth0"); inet_pton, which the spec names, does not.
  return isIP(text) === (family === 'IPv4' ? 4 : 6) && !text.includes('%');
}

/** A decimal port as the spec writes it: no sign, no leading zero but "0" itself. */
function parsePort(text: string): number | undefined {
  if (!/^(?:0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 0xffff ? port : undefined;
}

function parseV2(bytes: Buffer): ProxyHeaderResult {
  // Each fixed byte is checked as soon as it arrives, so garbage is refused early.
  if (bytes.length <= V2_SIGNATURE.length) return { kind: 'incomplete' };
  const versionAndCommand = bytes[V2_SIGNATURE.length];
  if (versionAndCommand >> 4 !== V2_VERSION) return invalid('PROXY v2 header has an unsupported version');
  const command = versionAndCommand & 0x0f;
  if (command !== V2_COMMAND_LOCAL && command !== V2_COMMAND_PROXY) return invalid('PROXY v2 header has an unknown command');
  if (bytes.length <= V2_SIGNATURE.length + 1) return { kind: 'incomplete' };
  // LOCAL means "use the real endpoints": the spec has the family discarded unread.
  const block = command === V2_COMMAND_LOCAL ? NO_ADDRESSES : V2_ADDRESS_BLOCKS.get(bytes[V2_SIGNATURE.length + 1]);
  if (!block) return invalid('PROXY v2 header has an unknown address family');
  if (bytes.length < V2_FIXED_LENGTH) return { kind: 'incomplete' };
  const declaredLength = bytes.readUInt16BE(V2_FIXED_LENGTH - 2);
  if (declaredLength < block.size) return invalid('PROXY v2 header is too short for its address family');
  // Whatever follows the address block is TLVs, which nothing here needs.
  const length = V2_FIXED_LENGTH + declaredLength;
  if (bytes.length < length) return { kind: 'incomplete' };
  if (!block.family) return { kind: 'header', length, version: 2 };
  const addressSize = block.family === 'IPv4' ? 4 : 16;
  const portsAt = V2_FIXED_LENGTH + 2 * addressSize;
  return {
    kind: 'header',
    length,
    version: 2,
    source: { address: formatAddress(bytes, V2_FIXED_LENGTH, block.family), port: bytes.readUInt16BE(portsAt), family: block.family },
    destination: { address: formatAddress(bytes, V2_FIXED_LENGTH + addressSize, block.family), port: bytes.readUInt16BE(portsAt + 2), family: block.family },
  };
}

function formatAddress(bytes: Buffer, at: number, family: ProxyAddress['family']): string {
  return family === 'IPv4' ? formatIPv4(bytes, at) : formatIPv6(bytes, at);
}

function formatIPv4(bytes: Buffer, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/**
 * Written as node writes a socket's remoteAddress (libuv's inet_ntop), so a client
 * reads the same through a balancer as directly: lowercase, no leading zeros, the
 * first longest run of two or more zero groups as "::", and an IPv4-mapped or
 * IPv4-compatible address ending in dotted quad.
 */
function formatIPv6(bytes: Buffer, at: number): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(at + 2 * i));
  let zerosAt = -1;
  let zerosLength = 0;
  for (let start = 0; start < 8; start++) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > zerosLength) [zerosAt, zerosLength] = [start, end - start];
    start = end;
  }
  if (zerosLength < 2) return groups.map((group) => group.toString(16)).join(':');
  const embedsIPv4 = zerosAt === 0 && (zerosLength === 6 || (zerosLength === 5 && groups[5] === 0xffff));
  const tail = embedsIPv4
    ? [...groups.slice(zerosAt + zerosLength, 6).map((group) => group.toString(16)), formatIPv4(bytes, at + 12)]
    : groups.slice(zerosAt + zerosLength).map((group) => group.toString(16));
  const head = groups.slice(0, zerosAt).map((group) => group.toString(16));
  return `${head.join(':')}::${tail.join(':')}`;
}
