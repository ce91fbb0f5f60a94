// Which IP version a text is, as net.isIP answers, without its cost at start:
// node's IPv6 check compiles a very large pattern on first use (5 to 15 ms in
// every process that parses `::1` or checks an IPv4 address against it), while
// the C library's parser behind net.SocketAddress (inet_pton) answers at once.
import net from 'node:net';

/** 4, 6, or 0 when `text` is no IP address: the same answers as net.isIP. */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (net.isIPv4(text)) return 4;
  if (!text.includes(':')) return 0;
  // A zone (`fe80::1%eth0`) is an IPv6 address to net.isIP; inet_pton takes none, so the pattern judges it.
  if (text.includes('%')) return net.isIPv6(text) ? 6 : 0;
  try {
    new net.SocketAddress({ address: text, family: 'ipv6' });
    return 6;
  } catch {
    return 0;
  }
}

export const isIPv6Address = (text: string): boolean => ipVersion(text) === 6;
