// DNS rebinding: a page from evil.example whose name is then made to resolve to
// 127.0.0.1 reads the inspector as its own origin, but the browser still sends
// `Host: evil.example`. So the inspector answers only a Host that names it
// directly: localhost, 127.0.0.1, [::1] or the address it was bound to, on its
// port; off loopback also this machine's name or any IP address (an address
// cannot be rebound; the token guards those anyway).
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** `[v6]:port`, `name:port` or a bare name; nothing else (no user info, no path). */
const HOST_HEADER = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/i;

export function hostChecker(boundHost: string, port: number): (header: string | undefined) => boolean {
  const loopback = isLoopback(boundHost);
  const names = new Set(['localhost', '127.0.0.1', '::1', boundHost.toLowerCase()]);
  if (!loopback) names.add(hostname().toLowerCase());
  return (header) => {
    const match = header ? HOST_HEADER.exec(header) : null;
    if (!match) return false;
    const name = (match[1] ?? match[2]).toLowerCase();
    if ((match[3] === undefined ? 80 : Number(match[3])) !== port) return false;
    return names.has(name) || (!loopback && isIP(name) !== 0);
  };
}
