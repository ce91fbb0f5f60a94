// Behind a trusted proxy the TCP peer is the proxy; the client and the scheme
// it used are in X-Forwarded-For / X-Forwarded-Proto / Forwarded (RFC 7239) and
// the secure scheme headers. From peers in --forwarded-allow-ips corral puts
// them where node apps and frameworks read them (req.socket.remoteAddress and
// req.socket.encrypted: express's req.ip/req.protocol, koa's ctx.ip/ctx.protocol,
// fastify's request.ip/protocol, the fetch URL's scheme, the access log's %(h)s).
// From anyone else they are ignored.
import type { IncomingMessage } from 'node:http';
import type { Settings } from '../config/schema.js';
import { addressAllowList } from '../sockets/address-allow-list.js';
import { ipVersion } from '../sockets/ip-version.js';
import { BadRequest } from './bad-request.js';

export type ForwardingSettings = Pick<Settings, 'forwardedAllowIps' | 'secureSchemeHeaders'>;

/**
 * Applies what a trusted proxy said to the request; returns a BadRequest when its headers contradict each other.
 * `peer`: the TCP peer's address when the caller knows it already (HTTP/2 keeps it per connection).
 */
export type ForwardedClient = (req: IncomingMessage, peer?: string) => BadRequest | undefined;

interface Forwarding {
  address?: string;
  secure?: boolean;
}

export function forwardedClient({ forwardedAllowIps, secureSchemeHeaders }: ForwardingSettings): ForwardedClient | undefined {
  if (forwardedAllowIps.length === 0) return undefined;
  const trusted = addressAllowList(forwardedAllowIps);
  // name (lowercase) → the value that means "the client used HTTPS".
  const secureValues = new Map<string, string>();
  for (const entry of secureSchemeHeaders) {
    const colon = entry.indexOf(':');
    secureValues.set(entry.slice(0, colon).trim().toLowerCase(), entry.slice(colon + 1).trim().toLowerCase());
  }
  secureValues.set('x-forwarded-proto', secureValues.get('x-forwarded-proto') ?? 'https');
  // Only names of these lengths can matter: most headers are skipped without lowercasing them (a table, not a Set:
  // it is read for every header of every request from a trusted peer).
  const lengths = new Uint8Array(256);
  for (const name of [...secureValues.keys(), 'x-forwarded-for', 'forwarded']) if (name.length < lengths.length) lengths[name.length] = 1;
  const mayMatter = (name: string) => name.length < 256 ? lengths[name.length] === 1 : secureValues.has(name.toLowerCase());

  return (req, peer) => {
    if (!trusted(peer ?? peerAddress(req))) return undefined;
    const raw = req.rawHeaders;
    let secure: boolean | undefined;
    // Several lines of one header mean what they mean joined by commas (RFC 9110 §5.3): a proxy may add its own line.
    let forwardedFor: string[] | undefined;
    let xForwardedFor: string[] | undefined;
    for (let index = 0; index < raw.length; index += 2) {
      if (!mayMatter(raw[index])) continue;
      const name = raw[index].toLowerCase();
      const value = raw[index + 1];
      let saysSecure: boolean | undefined;
      if (name === 'x-forwarded-for') (xForwardedFor ??= []).push(...value.split(','));
      else if (name === 'forwarded') {
        const forwarded = parseForwarded(value);
        (forwardedFor ??= []).push(...forwarded.fors);
        saysSecure = forwarded.secure;
      } else {
        const secureValue = secureValues.get(name);
        if (secureValue !== undefined) saysSecure = value.trim().toLowerCase() === secureValue;
      }
      if (saysSecure === undefined) continue;
      const agreed = agree(secure, saysSecure);
      if (agreed === null) return contradiction();
      secure = agreed;
    }
    // The standard header wins over the older one when a request has both.
    const found: Forwarding = { secure, address: clientFromList(forwardedFor ?? xForwardedFor ?? [], trusted) };
    if (found.address !== undefined || found.secure !== undefined) {
      const socket = req.socket;
      const seen = socketSeenAs(socket, found.address ?? socket.remoteAddress, found.secure ?? Boolean((socket as { encrypted?: boolean }).encrypted));
      // An HTTP/2 request's socket is a getter (node:http2's compatibility API): shadowed on the request itself.
      if (req.httpVersionMajor === 2) Object.defineProperty(req, 'socket', { value: seen, configurable: true, writable: true });
      else req.socket = seen;
    }
    return undefined;
  };
}

/**
 * The TCP peer. Over HTTP/2, read from the connection's socket: node's req.socket there is a Proxy made on first
 * use, which costs more than the rest of this check when no header from the proxy is present.
 */
function peerAddress(req: IncomingMessage): string | undefined {
  const session = (req as { stream?: { session?: { socket?: { remoteAddress?: string } } } }).stream?.session;
  return session ? session.socket?.remoteAddress : req.socket.remoteAddress;
}

const contradiction = () => new BadRequest(400, 'the proxy headers contradict each other about the scheme');

/** Two headers saying different things about the scheme: gunicorn refuses the request too. */
function agree(before: boolean | undefined, now: boolean): boolean | null {
  if (before === undefined || before === now) return now;
  return null;
}

/** The client is the rightmost address not itself a trusted proxy (the leftmost ones can be forged by the client). */
function clientFromList(addresses: string[], trusted: (address: string) => boolean): string | undefined {
  let client: string | undefined;
  for (let index = addresses.length - 1; index >= 0; index -= 1) {
    const address = bareAddress(addresses[index]);
    if (address === undefined) return client;
    client = address;
    if (!trusted(address)) return client;
  }
  return client;
}

/** `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"` (RFC 7239): every for=, in order, and the last proto=. */
function parseForwarded(value: string): { fors: string[]; secure?: boolean } {
  const fors: string[] = [];
  let secure: boolean | undefined;
  for (const element of value.split(',')) {
    for (const pair of element.split(';')) {
      const equals = pair.indexOf('=');
      if (equals < 0) continue;
      const key = pair.slice(0, equals).trim().toLowerCase();
      const item = pair.slice(equals + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'for') fors.push(item);
      else if (key === 'proto') secure = item.toLowerCase() === 'https';
    }
  }
  return { fors, secure };
}

/** An address without its port or brackets, or undefined when it is no IP (`unknown`, `_hidden`). */
function bareAddress(text: string): string | undefined {
  let address = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  return ipVersion(address) ? address : undefined;
}

/**
 * The request's socket as the app should see it: the client's address and
 * scheme, everything else (methods, events, state) the real socket's. A view
 * per request, not a change to the socket: a proxy's keep-alive connection
 * carries requests of many clients, pipelined ones at once.
 */
function socketSeenAs<S extends object>(socket: S, remoteAddress: string | undefined, encrypted: boolean): S {
  const remoteFamily = remoteAddress && ipVersion(remoteAddress) === 6 ? 'IPv6' : 'IPv4';
  return new Proxy(socket, {
    get(target, key) {
      if (key === 'remoteAddress') return remoteAddress;
      if (key === 'remoteFamily') return remoteFamily;
      if (key === 'encrypted') return encrypted || undefined;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
