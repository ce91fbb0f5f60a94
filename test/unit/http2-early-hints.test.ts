// Early hints over HTTP/2, on node:http2 servers registered with sendHttp2EarlyHints (what corral's HTTP/2
// connections are served by), with a real HTTP/2 client over a real socket: the same rules as over HTTP/1.1,
// and the 103 goes out as a HEADERS frame of its own before the response's. A server not registered keeps node's
// own writeEarlyHints.
import http2, { type Http2ServerRequest, type Http2ServerResponse, type IncomingHttpHeaders } from 'node:http2';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forwardEarlyHints, sendHttp2EarlyHints } from '../../src/http/write-early-hints.js';

const STYLE = '</style.css>; rel=preload; as=style';
const SCRIPT = '</app.js>; rel=preload; as=script';

type Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

/** Serves `handler` on a fresh h2c server for one request, sends `body` once the 103 (or the response) is in, and tells what came back. */
async function oneRequest(handler: Handler, { register = true, body = 'hello' } = {}) {
  const server = http2.createServer(handler);
  if (register) sendHttp2EarlyHints(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    return await new Promise<{ interim: IncomingHttpHeaders[]; status: number; text: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response within 5 s')), 5000);
      const interim: IncomingHttpHeaders[] = [];
      const stream = client.request({ ':method': 'POST', ':path': '/' });
      let sent = false;
      const sendBody = () => {
        if (sent) return;
        sent = true;
        stream.end(body);
      };
      stream.on('headers', (headers) => {
        interim.push({ ...headers });
        sendBody();
      });
      let status = 0;
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
        sendBody();
      });
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (text += chunk));
      stream.on('end', () => {
        clearTimeout(timer);
        resolve({ interim, status, text });
      });
      stream.on('error', reject);
    });
  } finally {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Answers with the whole request body once it is in. */
const answerAfterBody = (res: Http2ServerResponse, prefix: string) => {
  let received = '';
  res.req.setEncoding('utf8');
  res.req.on('data', (chunk: string) => (received += chunk));
  res.req.on('end', () => res.end(`${prefix} ${received}`));
};

test('the 103 is a HEADERS frame of its own, sent while the app holds its answer, names lowercased and repeats as a list', async () => {
  const outcome = await oneRequest((req, res) => {
    const sent = res.writeEarlyHints({ Link: [STYLE, SCRIPT], 'X-Hint': ' yes ' } as never) as unknown;
    answerAfterBody(res, `sent=${sent}`);
  });
  assert.is(outcome.interim.length, 1);
  assert.is(outcome.interim[0][':status'], 103);
  assert.is(outcome.interim[0].link, `${STYLE}, ${SCRIPT}`);
  assert.is(outcome.interim[0]['x-hint'], 'yes');
  assert.equal([outcome.status, outcome.text], [200, 'sent=true hello']);
});

test('hints a pool thread checked are sent on the main thread\'s HTTP/2 response', async () => {
  const outcome = await oneRequest((req, res) => {
    const sent = forwardEarlyHints(res as unknown as ServerResponse, ['link', STYLE]);
    answerAfterBody(res, `forwarded=${sent}`);
  });
  assert.equal(
    outcome.interim.map((headers) => [headers[':status'], headers.link]),
    [[103, STYLE]],
  );
  assert.is(outcome.text, 'forwarded=true hello');
  // The thread kind's main thread forwards what a pool thread checked, on whichever HTTP/2 server the response is.
  const unregistered = await oneRequest((req, res) => {
    const sent = forwardEarlyHints(res as unknown as ServerResponse, ['link', STYLE]);
    answerAfterBody(res, `forwarded=${sent}`);
  }, { register: false });
  assert.equal([unregistered.interim.map((headers) => headers.link), unregistered.text], [[STYLE], 'forwarded=true hello']);
});

test('refused hints throw to the app as over HTTP/1.1, and nothing of them is sent', async () => {
  const outcome = await oneRequest((req, res) => {
    const reasons: string[] = [];
    const refused: Record<string, string>[] = [{ link: `${STYLE}\r\nset-cookie: stolen=1` }, { connection: 'close' }, { 'x hint': 'a' }];
    for (const hints of refused) {
      try {
        res.writeEarlyHints(hints);
      } catch (error) {
        reasons.push((error as { code: string }).code);
      }
    }
    res.end(reasons.join(' '));
  });
  assert.equal(outcome.interim, []);
  assert.is(outcome.text, 'CORRAL_ERR_INVALID_EARLY_HINTS CORRAL_ERR_INVALID_EARLY_HINTS CORRAL_ERR_INVALID_EARLY_HINTS');
});

test('hints after the head throw EarlyHintsTooLate; on a server not registered, node\'s own writeEarlyHints answers false instead', async () => {
  const late: Handler = (req, res) => {
    res.writeHead(200);
    let outcome: string;
    try {
      outcome = `returned ${String(res.writeEarlyHints({ link: STYLE }))}`;
    } catch (error) {
      outcome = `threw ${(error as { code: string }).code}`;
    }
    res.end(outcome);
  };
  assert.is((await oneRequest(late)).text, 'threw CORRAL_ERR_EARLY_HINTS_TOO_LATE');
  assert.is((await oneRequest(late, { register: false })).text, 'returned false');
});

test.run();
