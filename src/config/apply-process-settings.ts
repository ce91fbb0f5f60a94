// The settings that act on the arbiter's own process, so the app and every
// worker see them: --umask, --user/--group (resolved here, applied in workers),
// --chdir, -e; and the log files and pidfile, checked writable before anything starts.
import { chownSync, existsSync, statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { probePidfile } from '../arbiter/pidfile.js';
import { assertWritable } from '../log/log-file.js';
import { type Identity, parseUmask, resolveIdentity } from './identity.js';
import type { SettingSources } from './resolve-settings.js';
import type { Settings } from './schema.js';

/** How a setting is named in an error: by the config file and key that set it, else by its flag. */
export function settingLabel(name: string, flag: string, sources: SettingSources = {}): string {
  const source = sources[name];
  if (source === undefined || source === 'default' || source === 'command line') return flag;
  // A config file is named by its path; serve() and CORRAL_CMD_ARGS by themselves.
  return source === 'CORRAL_CMD_ARGS' ? `${source}: ${flag}` : `${source}: ${name}`;
}

export function applyProcessSettings(settings: Settings, sources: SettingSources = {}): Identity | undefined {
  const umask = parseUmask(settings.umask);
  if (umask !== undefined) process.umask(umask);
  const identity = resolveIdentity(settings.user, settings.group);
  if (settings.chdir) {
    if (!existsSync(settings.chdir) || !statSync(settings.chdir).isDirectory()) {
      throw new ConfigError(sources.chdir ?? '', 'chdir', `${settingLabel('chdir', '--chdir', sources)}: ${settings.chdir} is not a directory.`);
    }
    process.chdir(settings.chdir);
  }
  for (const pair of settings.rawEnv) {
    const at = pair.indexOf('=');
    process.env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  for (const [name, role, flag] of [
    ['errorlog', 'error log', '--error-logfile'],
    ['accesslog', 'access log', '--access-logfile'],
    ['pidfile', 'pidfile', '-p/--pid'],
  ] as const) {
    const path = settings[name];
    if (path && path !== '-') {
      // The pidfile is not created here: until it holds the pid, nobody may find it empty.
      assertWritable(path, role, settingLabel(name, flag, sources), role === 'pidfile' ? probePidfile : undefined);
      // Workers append to the logs after switching user.
      if (identity && role !== 'pidfile') chownSync(path, identity.uid, identity.gid);
    }
  }
  return identity;
}

