// NOTIFY_SOCKET: READY=1, RELOADING=1 + MONOTONIC_USEC, STOPPING=1 and STATUS=, received by a real datagram listener.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitUntil, withCorral } from '../helpers/corral-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'corral-notify-'));

/** A unix datagram listener (Node 20 has none; python3 is on the machine), one message per line. */
function datagramListener(path: string) {
  const listener = spawn(
    'python3',
    ['-u', '-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("up")\nwhile True: print(repr(s.recv(65536).decode()))', path],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const messages: string[] = [];
  let up = false;
  let partial = '';
  listener.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line === 'up') up = true;
      else messages.push(line.slice(1, -1).replace(/\\n/g, '\n'));
    }
  });
  return { messages, ready: () => waitUntil(() => up, { what: 'the datagram listener' }), stop: () => listener.kill('SIGKILL') };
}

test('readiness, reload and stop reach systemd through NOTIFY_SOCKET', async () => {
  const socketPath = join(tmp, 'notify.sock');
  const systemd = datagramListener(socketPath);
  try {
    await systemd.ready();
    const has = (pattern: RegExp) => systemd.messages.some((message) => pattern.test(message));
    await withCorral(['-w', '2', '-b', '127.0.0.1:0', 'examples/test.js'], async (corral) => {
      await corral.ready();
      await waitUntil(() => has(/^READY=1\nSTATUS=2 worker\(s\) serving/m), { what: 'READY=1' });
      corral.signal('SIGHUP');
      await waitUntil(() => has(/^RELOADING=1\nMONOTONIC_USEC=\d+/m), { what: 'RELOADING=1' });
      await corral.waitForLine(/Reload complete/, { timeoutMs: 15_000 });
      await waitUntil(() => systemd.messages.filter((message) => message.includes('READY=1')).length === 2, { what: 'READY=1 after the reload' });
      corral.signal('SIGTERM');
      await corral.waitForExit();
      await waitUntil(() => has(/^STOPPING=1/m), { what: 'STOPPING=1' });
    }, { env: { NOTIFY_SOCKET: socketPath } });
    const order = systemd.messages.map((message) => message.split('\n').find((line) => /^(READY|RELOADING|STOPPING)=/.test(line)));
    assert.equal(order.filter(Boolean), ['READY=1', 'RELOADING=1', 'READY=1', 'STOPPING=1']);
  } finally {
    systemd.stop();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
