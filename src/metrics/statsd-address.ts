// Where StatsD metrics go: `--statsd-host HOST[:PORT]` (or `[IPV6][:PORT]`),
// checked and resolved once, so a typo fails at startup and not every packet.
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import { SettingError } from '../errors.js';

/** gunicorn's default StatsD port. */
export const DEFAULT_STATSD_PORT = 8125;
/** A resolver that does not answer by then is as good as a name that does not resolve. */
const LOOKUP_DEADLINE_MS = 5000;

export interface StatsdAddress {
  host: string;
  port: number;
}

export interface ResolvedStatsdAddress extends StatsdAddress {
  address: string;
  family: 4 | 6;
}

const invalid = (raw: string, why: string) =>
  new SettingError('statsdHost', `--statsd-host: '${raw}' ${why}. Use HOST:PORT or [IPV6]:PORT, e.g. localhost:8125.`);

export function parseStatsdAddress(raw: string): StatsdAddress {
  const value = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    if (!isIPv6(bracketed[1])) throw invalid(raw, 'has an invalid IPv6 address');
    [, host, portText] = bracketed;
  } else if (isIPv6(value)) {
    host = value;
  } else {
    const colon = value.lastIndexOf(':');
    host = colon === -1 ? value : value.slice(0, colon);
    portText = colon === -1 ? undefined : value.slice(colon + 1);
    if (!/^[A-Za-z0-9._-]+$/.test(host)) throw invalid(raw, host ? `has an invalid host name '${host}'` : 'names no host');
  }
  if (portText === undefined) return { host, port: DEFAULT_STATSD_PORT };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw invalid(raw, `has an invalid port '${portText}' (1 to 65535)`);
  return { host, port };
}

/** Parses and resolves; throws a SettingError that says what is wrong. IPv4 first, as most agents listen there. */
export async function resolveStatsdAddress(raw: string): Promise<ResolvedStatsdAddress> {
  const { host, port } = parseStatsdAddress(raw);
  const literal = isIP(host);
  if (literal) return { host, port, address: host, family: literal as 4 | 6 };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${LOOKUP_DEADLINE_MS / 1000} s`)), LOOKUP_DEADLINE_MS);
    timer.unref();
  });
  try {
    const found = await Promise.race([lookup(host, { verbatim: false }), deadline]);
    return { host, port, address: found.address, family: found.family as 4 | 6 };
  } catch (error) {
    const why = (error as { code?: string }).code ?? (error as Error).message;
    throw invalid(raw, `does not resolve (${why})`);
  } finally {
    clearTimeout(timer);
  }
}
