// Which server `corral ctl` talks to: --socket PATH; --pid (a pid, or a
// pidfile); --name; else the config file in the working directory (its
// controlSocket, name or pidfile); else the only corral running for this user.
import { existsSync, readFileSync } from 'node:fs';
import { findConfigFile, loadConfigFile } from '../config/config-file.js';
import { UsageError } from '../errors.js';
import { type KnownSocket, liveControlSockets } from './control-path.js';
import { printable } from './printable.js';

export interface LocateOptions {
  socket?: string;
  pid?: string;
  name?: string;
  config?: string;
  cwd: string;
}

const describe = (sockets: KnownSocket[]) => sockets.map((s) => `${printable(s.name)} (pid ${s.pid})`).join(', ');

function pidFrom(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  if (!existsSync(text)) throw new UsageError(`--pid: ${text} is neither a pid nor an existing pidfile.`);
  const pid = Number(readFileSync(text, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`--pid: ${text} does not hold a pid.`);
  return pid;
}

function pick(sockets: KnownSocket[], what: string): string {
  if (sockets.length === 1) return sockets[0].path;
  if (sockets.length === 0) throw new UsageError(`No running corral found for ${what}. Is it started, with a control socket? Name it with --socket PATH.`);
  throw new UsageError(`Several corral servers match ${what}: ${describe(sockets)}. Choose one with --pid or --name.`);
}

export async function locateServer(options: LocateOptions): Promise<string> {
  if (options.socket) return options.socket;
  const live = liveControlSockets();
  if (options.pid) {
    const pid = pidFrom(options.pid);
    return pick(live.filter((s) => s.pid === pid), `pid ${pid}`);
  }
  if (options.name) return pick(live.filter((s) => s.name === options.name), `name '${options.name}'`);
  const file = findConfigFile(options.config, options.cwd);
  if (file) {
    const { values } = await loadConfigFile(file);
    if (typeof values.controlSocket === 'string') return values.controlSocket;
    if (typeof values.procName === 'string') return pick(live.filter((s) => s.name === values.procName), `name '${values.procName}' (from ${file})`);
    if (typeof values.pidfile === 'string' && existsSync(values.pidfile)) {
      const pid = pidFrom(values.pidfile);
      return pick(live.filter((s) => s.pid === pid), `pid ${pid} (pidfile ${values.pidfile}, from ${file})`);
    }
  }
  return pick(live, 'this user');
}
