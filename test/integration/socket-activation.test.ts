// Sockets handed over already bound: systemd's LISTEN_FDS, and -b fd://N.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const INIT = `${REPO_ROOT}src/init/corral-init`;

interface Handle {
  fd: number;
  close(): void;
  getsockname(out: { port?: number }): number;
}

/** A bound, not-listening TCP socket, as a supervisor would create it; this process never accepts on it. */
function boundSocket(): { fd: number; port: number; close(): void } {
  const create = (net as unknown as { _createServerHandle(address: string, port: number, family: number): Handle | number })._createServerHandle;
  const handle = create('127.0.0.1', 0, 4);
  if (typeof handle === 'number') throw new Error(`bind failed: ${handle}`);
  const name: { port?: number } = {};
  handle.getsockname(name);
  return { fd: handle.fd, port: name.port!, close: () => handle.close() };
}

test('socket activation: with LISTEN_PID naming corral and LISTEN_FDS=1 it serves on fd 3 and binds nothing', async () => {
  const socket = boundSocket();
  try {
    // As systemd does it: LISTEN_PID is the pid that execs corral.
    const launcher = (command: string[]): [string, string[]] => ['sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', 'sh', ...command]];
    await withCorral(['-w', '2', '-b', '127.0.0.1:1', 'examples/test.js'], async (corral) => {
      const urls = await corral.ready();
      assert.equal(urls, [`http://127.0.0.1:${socket.port}`], 'the inherited socket, not -b');
      assert.match(corral.output, /Using 1 socket\(s\) passed by systemd \(LISTEN_FDS\)/);
      assert.is((await request(urls[0])).body, 'Hello, World!\n');
    }, { fds: [socket.fd], launcher });
  } finally {
    socket.close();
  }
});

test('LISTEN_FDS meant for another process (a launcher such as npx between systemd and corral): -b is bound, with a warning that says why and what to do', async () => {
  const socket = boundSocket();
  try {
    // As `ExecStart=npx corral …` does it: systemd names the launcher, which starts corral as its child.
    const launcher = (command: string[]): [string, string[]] => ['sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 "$@"; exit $?', 'sh', ...command]];
    await withCorral(['-b', '127.0.0.1:0', 'examples/test.js'], async (corral) => {
      const [url] = await corral.ready();
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.is.not(url, `http://127.0.0.1:${socket.port}`);
      assert.match(
        corral.output,
        /\[WARNING\] LISTEN_FDS=1 is set with LISTEN_PID=\d+, another process \(this one is \d+\), so the sockets systemd passed are not for corral: binding -b instead.*set ExecStart= to the corral bin itself/,
      );
      assert.is((await request(url)).body, 'Hello, World!\n');
    }, { fds: [socket.fd], launcher });
  } finally {
    socket.close();
  }
});

test('socket activation through corral-init (a container runtime names its PID 1): corral-init hands the sockets and LISTEN_PID on to corral', async () => {
  const socket = boundSocket();
  try {
    // As podman does for a container: LISTEN_PID is the pid that execs corral-init.
    const launcher = (command: string[]): [string, string[]] => ['sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec sh "$0" "$@"', INIT, ...command]];
    await withCorral(['-w', '1', '-b', '127.0.0.1:0', 'examples/test.js'], async (corral) => {
      const urls = await corral.ready();
      assert.equal(urls, [`http://127.0.0.1:${socket.port}`], `the inherited socket, not -b:\n${corral.output}`);
      assert.match(corral.output, /Using 1 socket\(s\) passed by systemd \(LISTEN_FDS\)/);
      assert.is((await request(urls[0])).body, 'Hello, World!\n');
    }, { fds: [socket.fd], launcher });
  } finally {
    socket.close();
  }
});

test('no LISTEN_FDS: no word of socket activation', async () => {
  await withCorral(['-b', '127.0.0.1:0', 'examples/test.js'], async (corral) => {
    await corral.ready();
    assert.not.match(corral.output, /LISTEN_FDS/);
  }, { env: { LISTEN_PID: undefined, LISTEN_FDS: undefined } });
});

test('-b fd://3 serves on an inherited socket and logs its address', async () => {
  const socket = boundSocket();
  try {
    await withCorral(['-b', 'fd://3', 'examples/test.js'], async (corral) => {
      const urls = await corral.ready();
      assert.equal(urls, [`http://127.0.0.1:${socket.port}`]);
      assert.is((await request(urls[0])).status, 200);
    }, { fds: [socket.fd] });
  } finally {
    socket.close();
  }
});

test.run();
