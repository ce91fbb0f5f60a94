// Counting response body bytes on a real in-process server: chunked, fixed-length, HEAD, 204.
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from '../helpers/http.js';
import { countResponseBodyBytes, responseBodyBytes } from '../../src/log/response-body-bytes.js';

countResponseBodyBytes();
countResponseBodyBytes(); // a second call must not count twice

/** Serves one request with `handler`; resolves with the count once the response closed. */
async function countFor(handler: (res: ServerResponse) => void, options: { method?: string } = {}): Promise<number> {
  let counted: Promise<number> | undefined;
  const server = http.createServer((_req, res) => {
    counted = new Promise((resolve) => res.once('close', () => resolve(responseBodyBytes(res))));
    handler(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, options);
    return await counted!;
  } finally {
    server.close();
  }
}

test('a chunked response: every write counts, strings by their UTF-8 bytes', async () => {
  const count = await countFor((res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('héllo ');
    res.write(Buffer.from('world'));
    res.write('68656c6c6f', 'hex');
    res.end('!');
  });
  assert.is(count, 7 + 5 + 5 + 1);
});

test('end() with a body, with a callback only, and with nothing', async () => {
  assert.is(await countFor((res) => res.end('Hello, World!\n')), 14);
  assert.is(await countFor((res) => res.end(() => {})), 0);
  assert.is(await countFor((res) => res.end()), 0);
});

test('writes after end() are not counted', async () => {
  const count = await countFor((res) => {
    res.end('abc');
    res.on('error', () => {});
    res.write('ignored');
  });
  assert.is(count, 3);
});

test('HEAD and 204 responses send no body, whatever the app wrote', async () => {
  assert.is(await countFor((res) => res.end('not sent'), { method: 'HEAD' }), 0);
  assert.is(await countFor((res) => {
    res.statusCode = 204;
    res.end('not sent');
  }), 0);
});

test.run();
