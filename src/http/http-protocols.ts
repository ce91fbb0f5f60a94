// --http-protocols: which HTTP versions a worker serves, and how TLS offers
// them (ALPN identifiers, RFC 7301 / RFC 9113 §3.2).
// h1 also answers to http/1.0, which an HTTP/1.0 client (curl --http1.0) offers
// alone: without it, node's TLS ends the handshake with no_application_protocol.
const ALPN_IDS: Record<string, readonly string[]> = { h1: ['http/1.1', 'http/1.0'], h2: ['h2'] };

/** The ALPN list for the protocols, in their order: the first one both sides know is chosen. */
export function alpnProtocols(protocols: readonly string[]): string[] {
  return protocols.flatMap((protocol) => ALPN_IDS[protocol] ?? []);
}

export const servesHttp2 = (protocols: readonly string[]): boolean => protocols.includes('h2');
