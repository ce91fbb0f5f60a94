// 103 Early Hints through the real CLI, for every built-in kind and both app shapes: node-style apps call
// res.writeEarlyHints, fetch-style ones context.earlyHints. The 103's exact bytes reach the client before the
// final answer (held by the app until the request body is in, so "before" is certain, not a race); HTTP/1.0
// clients get none; hints corral refuses throw to the app, nothing of them reaches the wire, and the worker serves on.
import { execFile } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeCertificates } from '../helpers/certificates.js';
import { type CorralProcess, fixture, startCorral, withCorral } from '../helpers/corral-process.js';
import { RawConnection, exchange, rawExchange } from '../helpers/raw-http.js';

const NODE_APP = fixture('early-hints-app.js');
const FETCH_APP = fixture('early-hints-fetch.mjs');
const KINDS = ['async', 'thread', 'sync'] as const;
type Kind = (typeof KINDS)[number];

const STYLE = '</style.css>; rel=preload; as=style';
const SCRIPT = '</app.js>; rel=preload; as=script';
const HOLD_HINTS = `HTTP/1.1 103 Early Hints\r\nlink: ${STYLE}\r\nlink: ${SCRIPT}\r\n\r\n`;
const HINTS = `HTTP/1.1 103 Early Hints\r\nlink: ${STYLE}\r\nx-hint: yes\r\n\r\n`;
const get = (path: string, version = '1.1') => `GET ${path} HTTP/${version}\r\nHost: x\r\n\r\n`;

const servers = new Map<string, { corral: CorralProcess; port: number }>();
/** One corral per kind and app, started on first use and stopped at the end. */
async function serving(kind: Kind, app: string) {
  const key = `${kind} ${app}`;
  let server = servers.get(key);
  if (!server) {
    const corral = startCorral(['-k', kind, '-w', '1', '-b', '127.0.0.1:0', app]);
    servers.set(key, { corral, port: 0 });
    const [url] = await corral.ready(20_000);
    server = { corral, port: Number(new URL(url).port) };
    servers.set(key, server);
  }
  return server;
}

test.after(async () => {
  await Promise.all([...servers.values()].map(({ corral }) => corral.stop()));
});

for (const kind of KINDS) {
  for (const [shape, app] of [['node', NODE_APP], ['fetch', FETCH_APP]] as const) {
    test(`-k ${kind}, ${shape}-style app: the 103's exact bytes arrive while the app still holds its answer, then the answer`, async () => {
      const { port } = await serving(kind, app);
      const conn = await RawConnection.open(port);
      try {
        // The body is not sent yet, and the app answers only once it is in: the 103 must come on its own.
        await conn.write('POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n');
        const hints = await conn.readInterim({ deadlineMs: 10_000 });
        assert.is(hints.status, 103);
        assert.is(conn.all().toString('latin1'), HOLD_HINTS);
        await conn.write('hello');
        const response = await conn.readResponse({ deadlineMs: 10_000 });
        assert.is(response.status, 200);
        assert.is(response.text, 'got hello');
      } finally {
        conn.destroy();
      }
    });

    test(`-k ${kind}, ${shape}-style app: an HTTP/1.0 client gets no 103, and the app is told it was not sent`, async () => {
      const { port } = await serving(kind, app);
      const { data } = await rawExchange(port, get('/hints', '1.0'), { deadlineMs: 10_000 });
      const text = data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.not.match(text, /103|link:/i);
      assert.ok(text.endsWith('\r\n\r\nsent=false'), text);
    });

    test(`-k ${kind}, ${shape}-style app: hints with a CR LF are refused to the app, and nothing of them is sent`, async () => {
      const { port } = await serving(kind, app);
      const { responses, probe } = await exchange(port, get('/refused?case=crlf-value'), { deadlineMs: 10_000 });
      assert.is(responses[0].status, 200);
      assert.equal(responses[0].interim, []);
      assert.not.ok('set-cookie' in responses[0].headers);
      assert.match(responses[0].text, /^InvalidEarlyHints CORRAL_ERR_INVALID_EARLY_HINTS: Invalid early hints: the value of link has a character a field value cannot hold/);
      // Kept alive (the sync kind closes after every answer): the next request is answered alone.
      if (kind !== 'sync') assert.equal([probe?.status, probe?.interim], [200, []]);
    });

    test(`-k ${kind}, ${shape}-style app: hints it does not catch answer 500, are logged, and the worker serves on`, async () => {
      const { corral, port } = await serving(kind, app);
      const from = corral.lines.length;
      const { responses } = await exchange(port, get('/uncaught'), { connection: 'closed', deadlineMs: 10_000 });
      assert.is(responses[0].status, 500);
      assert.equal(responses[0].interim, []);
      await corral.waitForLine(/\[ERROR\] Error handling request GET \/uncaught: InvalidEarlyHints: Invalid early hints: /, { from });
      const after = await exchange(port, get('/hints'), { deadlineMs: 10_000 });
      assert.is(after.responses[0].text, 'sent=true');
    });

    test(`-k ${kind}, ${shape}-style app: curl -v shows the 103 and its fields before the 200`, async () => {
      const { port } = await serving(kind, app);
      const { stdout, stderr } = await curl(['-sv', `http://127.0.0.1:${port}/hints`]);
      assert.is(stdout, 'sent=true');
      const lines = stderr.split(/\r?\n/).filter((line) => line.startsWith('< '));
      const interim = lines.indexOf('< HTTP/1.1 103 Early Hints');
      const final = lines.indexOf('< HTTP/1.1 200 OK');
      assert.ok(interim >= 0 && final > interim, stderr);
      assert.equal(lines.slice(interim + 1, final), [`< link: ${STYLE}`, '< x-hint: yes'], stderr);
    });
  }
}

for (const kind of ['async', 'thread'] as const) {
  test(`-k ${kind}: pipelined on one kept-alive connection, each answer has its own 103s before it, in order`, async () => {
    const { port } = await serving(kind, NODE_APP);
    const conn = await RawConnection.open(port);
    try {
      // One write: the three requests in the same packet.
      await conn.write(get('/hints') + get('/twice') + get('/hints'));
      const responses = [];
      for (let index = 0; index < 3; index += 1) responses.push(await conn.readResponse({ deadlineMs: 10_000 }));
      assert.equal(
        responses.map((response) => [response.interim.map((hint) => hint.rawHeaders), response.status, response.text]),
        [
          [[[['link', STYLE], ['x-hint', 'yes']]], 200, 'sent=true'],
          [[[['link', STYLE]], [['link', SCRIPT]]], 200, 'twice'],
          [[[['link', STYLE], ['x-hint', 'yes']]], 200, 'sent=true'],
        ],
      );
      const expected = `${HINTS}HTTP/1.1 200 OK\r\n`;
      assert.is(conn.all().toString('latin1', 0, expected.length), expected);
      // The connection is still usable.
      await conn.write(get('/'));
      assert.is((await conn.readResponse({ deadlineMs: 10_000 })).text, 'ok');
    } finally {
      conn.destroy();
    }
  });
}

for (const kind of KINDS) {
  test(`-k ${kind}: Expect: 100-continue, then the app's 103, then the answer`, async () => {
    const { port } = await serving(kind, NODE_APP);
    const conn = await RawConnection.open(port);
    try {
      await conn.write('POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
      assert.is((await conn.readInterim({ deadlineMs: 10_000 })).status, 100);
      assert.is((await conn.readInterim({ deadlineMs: 10_000 })).status, 103);
      assert.is(conn.all().toString('latin1'), `HTTP/1.1 100 Continue\r\n\r\n${HOLD_HINTS}`);
      await conn.write('hello');
      assert.is((await conn.readResponse({ deadlineMs: 10_000 })).text, 'got hello');
    } finally {
      conn.destroy();
    }
  });
}

test('-k async: an HTTP/0.9 request gets the body alone, no 103 in it', async () => {
  const { port } = await serving('async', NODE_APP);
  const { data, closedByServer } = await rawExchange(port, 'GET /hints\r\n', { deadlineMs: 10_000 });
  assert.ok(closedByServer);
  assert.is(data.toString('latin1'), 'sent=false');
});

test('-k async: every hint corral refuses throws to the app with its reason, and nothing of it is sent', async () => {
  const { port } = await serving('async', NODE_APP);
  const refusals: Record<string, RegExp> = {
    'crlf-value': /^InvalidEarlyHints CORRAL_ERR_INVALID_EARLY_HINTS: .*the value of link has a character a field value cannot hold/,
    'crlf-name': /^InvalidEarlyHints CORRAL_ERR_INVALID_EARLY_HINTS: .*the field name "x-a\\r\\nset-cookie" is not an HTTP token/,
    'bad-name': /^InvalidEarlyHints CORRAL_ERR_INVALID_EARLY_HINTS: .*the field name "x hint" is not an HTTP token/,
    forbidden: /^InvalidEarlyHints CORRAL_ERR_INVALID_EARLY_HINTS: .*a 103 cannot carry Content-Length/,
    'not-object': /^InvalidEarlyHints CORRAL_ERR_INVALID_EARLY_HINTS: .*expected an object such as \{ link: /,
    'not-string': /^InvalidEarlyHints CORRAL_ERR_INVALID_EARLY_HINTS: .*the value of link is an object; give a string, or an array of strings/,
    late: /^EarlyHintsTooLate CORRAL_ERR_EARLY_HINTS_TOO_LATE: Early hints for GET \/refused come after the response's head was written/,
  };
  for (const [which, reason] of Object.entries(refusals)) {
    const { responses, probe } = await exchange(port, get(`/refused?case=${which}`), { deadlineMs: 10_000 });
    assert.is(responses[0].status, 200, which);
    assert.equal(responses[0].interim, [], which);
    assert.match(responses[0].text, reason, which);
    assert.equal([probe?.status, probe?.interim], [200, []], which);
  }
});

for (const kind of ['async', 'thread'] as const) {
  test(`-k ${kind} over TLS: curl -v shows the 103 before the 200, and refused hints still throw`, async () => {
    const certs = makeCertificates();
    try {
      const args = ['-k', kind, '-w', '1', '-b', '127.0.0.1:0', '--certfile', certs.server.certFile, '--keyfile', certs.server.keyFile, NODE_APP];
      await withCorral(args, async (corral) => {
        const [url] = await corral.ready(20_000);
        const { stdout, stderr } = await curl(['-sv', '--cacert', certs.ca.certFile, `${url}/hints`]);
        assert.is(stdout, 'sent=true');
        const lines = stderr.split(/\r?\n/).filter((line) => line.startsWith('< '));
        assert.equal(lines.slice(0, 4), ['< HTTP/1.1 103 Early Hints', `< link: ${STYLE}`, '< x-hint: yes', '< HTTP/1.1 200 OK'], stderr);
        const refused = await curl(['-s', '--cacert', certs.ca.certFile, `${url}/refused?case=crlf-name`]);
        assert.match(refused.stdout, /^InvalidEarlyHints CORRAL_ERR_INVALID_EARLY_HINTS: /);
      });
    } finally {
      certs.remove();
    }
  });
}

for (const kind of KINDS) {
  test(`-k ${kind}: the access log records the final answer's status and body bytes, not the 103`, async () => {
    const args = ['-k', kind, '-w', '1', '-b', '127.0.0.1:0', '--access-logfile', '-', '--access-logformat', 'access %(r)s %(s)s %(B)s', NODE_APP];
    await withCorral(args, async (corral) => {
      const [url] = await corral.ready(20_000);
      const { responses } = await exchange(Number(new URL(url).port), get('/hints'), { deadlineMs: 10_000 });
      assert.is(responses[0].interim[0]?.status, 103);
      await corral.waitForLine(/^access GET \/hints HTTP\/1\.1 200 9$/);
    });
  });
}

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['--max-time', '10', ...args], (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr })));
  });
}

test.run();
