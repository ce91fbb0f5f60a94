// A worker started by a root arbiter becomes --user/--group before it loads the
// app; the listening sockets it inherited stay usable.
import type { Identity } from '../config/identity.js';

// These exist on POSIX platforms only, hence optional in node's types.
interface PosixProcess {
  initgroups(user: string, extraGroup: number): void;
  setgroups(groups: number[]): void;
  setgid(id: number): void;
  setuid(id: number): void;
}

export function dropPrivileges(identity: Identity, initgroups: boolean): void {
  const posix = process as unknown as PosixProcess;
  if (initgroups) posix.initgroups(identity.name, identity.gid);
  else posix.setgroups([identity.gid]);
  posix.setgid(identity.gid);
  posix.setuid(identity.uid);
}
