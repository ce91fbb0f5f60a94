// After a connection's last answer (the sync kind's every answer, or an app's Connection: close), a request the
// client pipelined behind it never reaches the app: its answer could never be sent. And the close lingers: what
// the client still sends is read, so the connection ends with a FIN, not a reset that would drop the answer.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, withCorral } from '../helpers/corral-process.js';
import { RawConnection } from '../helpers/raw-http.js';

const dir = mkdtempSync(join(tmpdir(), 'corral-last-answer-'));
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

for (const [kind, first] of [['sync', '/a'], ['async', '/close']] as const) {
  test(`-k ${kind}: a request pipelined behind the last answer (${first}) never reaches the app`, async () => {
    const seenFile = join(dir, `${kind}.seen`);
    await withCorral(['-k', kind, '-w', '1', '-b', '127.0.0.1:0', fixture('records-requests.js')], async (corral) => {
      const [url] = await corral.ready();
      const conn = await RawConnection.open(Number(new URL(url).port));
      try {
        // One write: both requests in the same packet, as a pipelining client or proxy sends them.
        await conn.write(get(first) + `POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi`);
        const response = await conn.readResponse();
        assert.is(response.status, 200);
        assert.ok(await conn.waitForClose(5000), 'the connection ends after the last answer');
        assert.is(conn.unread().length, 0, 'nothing after the last answer');
      } finally {
        conn.destroy();
      }
      // A request on a new connection comes after both in the file, so the file is complete once it is there.
      await fetch(`${url}/later`).then((response) => response.text());
      assert.equal(readFileSync(seenFile, 'utf8').trim().split('\n'), [`GET ${first}`, 'GET /later']);
    }, { env: { SEEN_FILE: seenFile } });
  });
}

test('-k sync: a client still sending after its answer gets the answer whole and a clean close, not a reset', async () => {
  const seenFile = join(dir, 'linger.seen');
  await withCorral(['-k', 'sync', '-w', '1', '-b', '127.0.0.1:0', fixture('records-requests.js')], async (corral) => {
    const [url] = await corral.ready();
    for (let round = 0; round < 20; round += 1) {
      const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
      const outcome = await new Promise<{ data: string; error?: string }>((resolve) => {
        let data = '';
        let error: string | undefined;
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => (data += chunk));
        socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure.code));
        socket.on('close', () => resolve({ data, error }));
        socket.on('connect', () => {
          socket.write(get('/a'));
          // Keeps sending, as a client streaming a body the app never reads would, until the server's FIN arrives.
          const filler = Buffer.alloc(16 * 1024, 'x');
          const keepSending = () => {
            if (socket.destroyed || socket.readableEnded) return void socket.end();
            socket.write(filler, () => void setImmediate(keepSending));
          };
          keepSending();
        });
      });
      assert.match(outcome.data, /^HTTP\/1\.1 200 OK\r\n[\s\S]*saw \/a\n$/, `round ${round}: the answer arrived whole (error: ${outcome.error ?? "none"}): ${JSON.stringify(outcome.data)}`);
    }
  }, { env: { SEEN_FILE: seenFile } });
});

test.after(() => {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
});

test.run();
