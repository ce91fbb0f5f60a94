// --user/--group/--umask, checked once in the arbiter so a typo fails at start
// with its reason, not later in every worker.
import { execFileSync } from 'node:child_process';
import { ConfigError } from '../errors.js';

export interface Identity {
  uid: number;
  gid: number;
  /** The user name, for initgroups. */
  name: string;
}

function lookup(database: 'passwd' | 'group', key: string): string[] | undefined {
  try {
    return execFileSync('getent', [database, key], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return undefined;
  }
}

/** Resolves --user and --group to ids; undefined when no --user is set. */
export function resolveIdentity(user: string | null, group: string | null): Identity | undefined {
  if (!user) {
    if (group) throw new ConfigError('', 'group', '--group needs --user: workers switch group only when they switch user.');
    return undefined;
  }
  const entry = lookup('passwd', user);
  if (!entry) throw new ConfigError('', 'user', `-u/--user: no user '${user}' on this system (getent passwd found none).`);
  let gid = Number(entry[3]);
  if (group) {
    const groupEntry = lookup('group', group);
    if (!groupEntry) throw new ConfigError('', 'group', `-g/--group: no group '${group}' on this system (getent group found none).`);
    gid = Number(groupEntry[2]);
  }
  const uid = Number(entry[2]);
  if (typeof process.getuid === 'function' && process.getuid() !== 0 && process.getuid() !== uid) {
    throw new ConfigError('', 'user', `-u/--user ${user}: only root can run workers as another user; start corral as root or drop -u.`);
  }
  return { uid, gid, name: entry[0] };
}

export function parseUmask(text: string | null): number | undefined {
  if (text === null) return undefined;
  if (!/^0?[0-7]{1,3}$/.test(text)) throw new ConfigError('', 'umask', `-m/--umask: '${text}' is not an octal mode such as 027.`);
  return parseInt(text, 8);
}
