// Binds a unix socket that has its final mode from the moment it appears at its
// path. bind() creates it under the umask, and a chmod afterwards goes through
// the path, following whatever symlink was swapped in meanwhile; fchmod on the
// fd would not help (on Linux it leaves the path's mode alone), and changing the
// process umask would touch every file created meanwhile. So the socket is bound
// and given its mode in a fresh 0700 directory beside the path, where nobody else
// can reach it, then hard-linked into place: link() never follows nor replaces
// what is at the path (EEXIST), and the inode carries the mode along.
import { chmodSync, linkSync, mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { dirname, join } from 'node:path';

/** sun_path is 108 bytes with its NUL; Node cuts a longer path short without a word. */
const MAX_SOCKET_PATH_BYTES = 107;

function checkLength(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`${path} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket path may have; choose a shorter --control-socket`);
  }
}

export async function listenWithMode(server: net.Server, path: string, mode: number): Promise<void> {
  checkLength(path);
  const staging = mkdtempSync(join(dirname(path), '.c'));
  try {
    const temporary = join(staging, 's');
    checkLength(temporary);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(temporary, () => {
        server.off('error', reject);
        resolve();
      });
    });
    try {
      chmodSync(temporary, mode);
      linkSync(temporary, path);
    } catch (error) {
      server.close();
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${path} appeared while the control socket was being opened; another server may be starting there`);
      throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
