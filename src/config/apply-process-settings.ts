// The settings that act on the arbiter's own process, so the app and every
// worker see them: --umask, --user/--group (resolved here, applied in workers),
// --chdir, -e; and the log files and pidfile, checked writable before anything starts.
import { chownSync, existsSync, statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { assertWritable } from '../log/log-file.js';
import { type Identity, parseUmask, resolveIdentity } from './identity.js';
import type { Settings } from './schema.js';

export function applyProcessSettings(settings: Settings): Identity | undefined {
  const umask = parseUmask(settings.umask);
  if (umask !== undefined) process.umask(umask);
  const identity = resolveIdentity(settings.user, settings.group);
  if (settings.chdir) {
    if (!existsSync(settings.chdir) || !statSync(settings.chdir).isDirectory()) {
      throw new ConfigError('', 'chdir', `--chdir: ${settings.chdir} is not a directory.`);
    }
    process.chdir(settings.chdir);
  }
  for (const pair of settings.rawEnv) {
    const at = pair.indexOf('=');
    process.env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  for (const [path, role, flag] of [
    [settings.errorlog, 'error log', '--error-logfile'],
    [settings.accesslog, 'access log', '--access-logfile'],
    [settings.pidfile, 'pidfile', '-p/--pid'],
  ] as const) {
    if (path && path !== '-') {
      assertWritable(path, role, flag);
      // Workers append to the logs after switching user.
      if (identity && role !== 'pidfile') chownSync(path, identity.uid, identity.gid);
    }
  }
  return identity;
}

