// --http-protocols: which HTTP versions a worker serves, and how TLS offers
// them (ALPN identifiers, RFC 7301 / RFC 9113 §3.2).
const ALPN_IDS: Record<string, string> = { h1: 'http/1.1', h2: 'h2' };

/** The ALPN list for the protocols, in their order: the first one both sides know is chosen. */
export function alpnProtocols(protocols: readonly string[]): string[] {
  return protocols.map((protocol) => ALPN_IDS[protocol]).filter((id) => id !== undefined);
}

export const servesHttp2 = (protocols: readonly string[]): boolean => protocols.includes('h2');
