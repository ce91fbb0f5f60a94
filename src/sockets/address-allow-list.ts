// Which peers a setting trusts (--forwarded-allow-ips, --proxy-allow-from):
// IPs, CIDR ranges or `*`, checked with node's BlockList so IPv4 peers that
// arrive as IPv4-mapped IPv6 (`::ffff:10.0.0.1`) match their IPv4 rules.
import net from 'node:net';
import { ipVersion } from './ip-version.js';

export interface AllowedAddress {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`; undefined when it is none of these. */
export function parseAllowedAddress(value: string): AllowedAddress | undefined {
  const [address, prefixText, extra] = value.trim().split('/');
  const version = ipVersion(address);
  if (version === 0 || extra !== undefined) return undefined;
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export type AddressAllowed = (address: string | undefined) => boolean;

export function addressAllowList(entries: readonly string[]): AddressAllowed {
  if (entries.some((entry) => entry.trim() === '*')) return () => true;
  const list = new net.BlockList();
  for (const entry of entries) {
    const parsed = parseAllowedAddress(entry);
    if (parsed) list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  const seen = new Map<string, boolean>();
  return (address) => {
    if (address === undefined) return false;
    // Peers are few and repeat (a proxy's address): remember the answer.
    let allowed = seen.get(address);
    if (allowed === undefined) {
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
      const version = ipVersion(mapped ?? address);
      allowed = version !== 0 && list.check(mapped ?? address, version === 4 ? 'ipv4' : 'ipv6');
      if (seen.size > 10_000) seen.clear();
      seen.set(address, allowed);
    }
    return allowed;
  };
}
