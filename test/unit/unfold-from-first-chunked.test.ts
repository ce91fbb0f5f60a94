// The switch to JS reading at a connection's first chunked request, on node's own HTTP server.
import { createServer } from 'node:http';
import { connect, Socket, type AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unfoldFromFirstChunked } from '../../src/http/unfold-from-first-chunked.js';

test('a socket without node\'s parser is refused, for the caller to read it all through JS', () => {
  assert.is(unfoldFromFirstChunked(new Socket()), false);
});

test('on a bare node server: requests before and after a chunked one with BWS are served in order, the bodies intact', async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (data: string) => (body += data));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      res.end('ok');
    });
  });
  let watched: boolean | undefined;
  server.on('connection', (socket: Socket) => (watched = unfoldFromFirstChunked(socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('latin1');
    const answers = (count: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (reply.match(/HTTP\/1\.1 200/g)?.length ?? 0) >= count && (socket.off('data', check), resolve());
        socket.on('data', check);
        socket.once('error', reject);
        check();
      });
    socket.on('data', (data: string) => (reply += data));
    socket.write('GET /a HTTP/1.1\r\nHost: a\r\n\r\n');
    await answers(1);
    socket.write('POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n5 ; a = b');
    await answers(2);
    socket.write('POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 ; x = "1 ; 2"\r\nabc\r\n2\t;\ty\r\nde\r\n0\r\n\r\nGET /d HTTP/1.1\r\nHost: a\r\n\r\n');
    await answers(4);
    socket.destroy();
    assert.is(watched, true);
    assert.equal(seen, ['GET /a ', 'POST /b 5 ; a = b', 'POST /c abcde', 'GET /d ']);
  } finally {
    server.close();
  }
});

test.run();
