// HOST:PORT for the arbiter's side servers (metrics, inspector): TCP only, the
// port required (-b's default of 8000 would collide with the app).
import { SettingError } from '../errors.js';
import { parseBindAddress } from './bind-address.js';

export function parseHostPort(raw: string, setting: string, flag: string, example: string): { host: string; port: number } {
  const address = (() => {
    try {
      return parseBindAddress(raw);
    } catch {
      return undefined;
    }
  })();
  if (address?.type !== 'tcp' || !/:\d+$/.test(raw.trim())) {
    throw new SettingError(setting, `${flag}: '${raw}' is not valid. Use HOST:PORT or [IPV6]:PORT, e.g. ${example}.`);
  }
  return { host: address.host, port: address.port };
}

/** An IPv6 host goes in brackets in a URL. */
export const hostForUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);
