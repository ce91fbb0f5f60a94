// awaitFirstBytes on real loopback connections, accepted paused as a sync worker accepts them.
import net, { type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { awaitFirstBytes } from '../../src/sockets/await-first-bytes.js';
import { bytesWaiting } from '../../src/sockets/bytes-waiting.js';

/** A client connected to a paused server socket; both ends, closed by `close()`. */
async function connected(): Promise<{ client: Socket; accepted: Socket; close: () => void }> {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => {});
  const [accepted] = (await once(server, 'connection')) as [Socket];
  accepted.on('error', () => {});
  return {
    client,
    accepted,
    close: () => {
      client.destroy();
      accepted.destroy();
      server.close();
    },
  };
}

const firstBytes = (socket: Socket, graceMs: number) =>
  new Promise<{ first: Buffer | 'closed'; calls: number }>((resolve) => {
    let calls = 0;
    awaitFirstBytes(socket, graceMs, (first) => {
      calls += 1;
      // Once only: a second call would come in a later turn.
      setTimeout(() => resolve({ first, calls }), 30);
    });
  });

/** Waits until `check` holds, polling every 5 ms, for at most 5 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('bytes sent during the wait are given as soon as they come, not at its end', async () => {
  const { client, accepted, close } = await connected();
  try {
    const started = Date.now();
    const waiting = firstBytes(accepted, 10_000);
    setTimeout(() => client.write('GET / HTTP/1.1\r\n'), 20);
    const { first, calls } = await waiting;
    assert.ok(Buffer.isBuffer(first));
    assert.is((first as Buffer).toString(), 'GET / HTTP/1.1\r\n');
    assert.is(calls, 1);
    assert.ok(Date.now() - started < 5000, 'it woke when the bytes came');
  } finally {
    close();
  }
});

test('a request sent with its end (a half-close) is given whole, the end not taken for a silent client', async () => {
  const { client, accepted, close } = await connected();
  try {
    const waiting = firstBytes(accepted, 10_000);
    client.end('GET / HTTP/1.0\r\n\r\n');
    const { first } = await waiting;
    assert.ok(Buffer.isBuffer(first), `got ${String(first)}`);
    assert.is((first as Buffer).toString(), 'GET / HTTP/1.0\r\n\r\n');
  } finally {
    close();
  }
});

test('a silent connection gets an empty buffer once the wait is over, and what it sends later stays unread for the next owner', async () => {
  const { client, accepted, close } = await connected();
  try {
    const { first, calls } = await firstBytes(accepted, 20);
    assert.ok(Buffer.isBuffer(first));
    assert.is((first as Buffer).length, 0);
    assert.is(calls, 1);
    client.write('late bytes');
    // They reach the kernel's buffer, not the socket's stream: the probe reads them there.
    let seen = '';
    await until('the late bytes in the kernel', () => {
      const waiting = bytesWaiting(accepted);
      if (Buffer.isBuffer(waiting)) seen += waiting.toString();
      return seen === 'late bytes';
    });
    assert.is(accepted.readableLength, 0, 'the socket read nothing after the wait');
  } finally {
    close();
  }
});

test('a client that closes without a word, or resets, is reported closed, once', async () => {
  for (const leave of ['end', 'reset'] as const) {
    const { client, accepted, close } = await connected();
    try {
      const waiting = firstBytes(accepted, 10_000);
      if (leave === 'end') client.end();
      else client.resetAndDestroy();
      const { first, calls } = await waiting;
      assert.is(first, 'closed', leave);
      assert.is(calls, 1, leave);
    } finally {
      close();
    }
  }
});

test.run();
