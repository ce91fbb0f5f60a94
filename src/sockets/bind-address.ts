// Parsing of -b/--bind values: HOST[:PORT], [IPV6][:PORT], unix:PATH, fd://FD.
import { SettingError } from '../errors.js';
import { isIPv6Address as isIPv6 } from './ip-version.js';

export const DEFAULT_PORT = 8000;

export type BindAddress =
  | { type: 'tcp'; host: string; port: number }
  | { type: 'unix'; path: string }
  | { type: 'fd'; fd: number };

const invalid = (raw: string, why: string) =>
  new SettingError('bind', `-b/--bind: '${raw}' ${why}. Use HOST:PORT, [IPV6]:PORT, unix:PATH or fd://FD.`);

function parsePort(raw: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw invalid(raw, `has an invalid port '${text}' (0 to 65535)`);
  return port;
}

export function parseBindAddress(raw: string): BindAddress {
  const value = raw.trim();
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw invalid(raw, 'names no socket path');
    return { type: 'unix', path };
  }
  if (value.startsWith('fd://')) {
    const text = value.slice('fd://'.length);
    if (!/^\d+$/.test(text)) throw invalid(raw, 'names no file descriptor number');
    return { type: 'fd', fd: Number(text) };
  }
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  if (bracketed) {
    if (!isIPv6(bracketed[1])) throw invalid(raw, 'has an invalid IPv6 address');
    return { type: 'tcp', host: bracketed[1], port: bracketed[2] === undefined ? DEFAULT_PORT : parsePort(raw, bracketed[2]) };
  }
  if (isIPv6(value)) return { type: 'tcp', host: value, port: DEFAULT_PORT };
  const colon = value.lastIndexOf(':');
  if (colon === -1) {
    if (!value) throw invalid(raw, 'is empty');
    return { type: 'tcp', host: value, port: DEFAULT_PORT };
  }
  const host = value.slice(0, colon) || '0.0.0.0';
  return { type: 'tcp', host, port: parsePort(raw, value.slice(colon + 1)) };
}
