// Where control sockets live. Each server's default path holds its name and
// pid (NAME.PID.sock) in a directory of the user's own, so two servers on one
// machine never collide (gunicorn's fixed default does) and `corral ctl` can
// list them and pick one by name or pid.
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { parseAppModule } from '../app/app-module.js';
import { isAlive } from '../arbiter/process-alive.js';
import { checkPrivateDirectory } from './path-safety.js';

/** $XDG_RUNTIME_DIR/corral (per user, cleared at logout), else $TMPDIR/corral-UID (checked before use: see path-safety). */
export function controlDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'corral');
  return join(tmpdir(), `corral-${process.getuid?.() ?? 'user'}`);
}

/** The name in the default path: -n/--name, else the app module's file name. */
export function serverName(procName: string | null, appModule: string): string {
  const { module } = parseAppModule(appModule);
  const raw = procName ?? basename(module, extname(module));
  return raw.replace(/[^\w.-]/g, '_') || 'corral';
}

export const defaultControlPath = (name: string, pid: number, env?: NodeJS.ProcessEnv) => join(controlDirectory(env), `${name}.${pid}.sock`);

export interface KnownSocket {
  path: string;
  name: string;
  pid: number;
}

/** The control sockets in the default directory whose server is still running; throws if another user could have put them there. */
export function liveControlSockets(env?: NodeJS.ProcessEnv): KnownSocket[] {
  const directory = controlDirectory(env);
  checkPrivateDirectory(directory, 'or set XDG_RUNTIME_DIR, or name the socket with --socket PATH.');
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .map((file) => /^(.+)\.(\d+)\.sock$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([file, name, pid]) => ({ path: join(directory, file), name, pid: Number(pid) }))
    .filter(({ pid }) => isAlive(pid));
}
