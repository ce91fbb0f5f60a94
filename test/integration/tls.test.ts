// HTTPS through the real CLI: --certfile/--keyfile on every kind, client
// certificates (--ca-certs, --cert-reqs), --ciphers, the sslContext hook, a
// renewed certificate picked up by HUP, and the settings refused at startup.
// Every certificate is made here with openssl and removed at the end.
import { writeFileSync, copyFileSync, mkdirSync, renameSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, isAlive, startCorral, waitUntil, withCorral } from '../helpers/corral-process.js';
import { makeCertificates } from '../helpers/certificates.js';
import { request } from '../helpers/http.js';

const certs = makeCertificates();
process.on('exit', () => certs.remove());
test.after(() => certs.remove());

const ECHO_APP = fixture('echo-app.js');
const tlsArgs = (...more: string[]) => ['-b', '127.0.0.1:0', '--certfile', certs.server.certFile, '--keyfile', certs.server.keyFile, ...more];

interface ClientOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
  timeoutMs?: number;
}

interface HttpsResponse {
  status: number;
  body: string;
  protocol: string | null;
  cipher: string;
  peer: PeerCertificate;
}

const where = (url: string) => {
  const { hostname, port } = new URL(url);
  return { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) };
};

/** One GET on a fresh TLS connection that trusts our CA; rejects on any TLS or socket error, or at the deadline. */
function httpsGet(url: string, path = '/', options: ClientOptions = {}): Promise<HttpsResponse> {
  const { timeoutMs = 5000, ca = certs.ca.cert, ...rest } = options;
  return new Promise((resolve, reject) => {
    const req = https.request({ ...where(url), path, ca, ...rest, agent: false, timeout: timeoutMs }, (res) => {
      const socket = res.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const protocol = socket.getProtocol();
      const cipher = socket.getCipher().name;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, protocol, cipher, peer }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('timeout', () => req.destroy(new Error(`TIMEOUT: no answer from ${url}${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The request must fail with a TLS or socket error (not a response, and not by hanging): returns the error. */
async function refused(attempt: Promise<unknown>, what: string): Promise<Error> {
  const outcome = await attempt.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  if (!('error' in outcome)) {
    assert.unreachable(`${what}: expected a failed handshake, got status ${JSON.stringify((outcome.value as { status?: number }).status)}`);
    throw new Error('unreachable');
  }
  assert.not.match(outcome.error.message, /^TIMEOUT/, `${what}: must be refused, not left hanging`);
  return outcome.error;
}

/** A bare TLS handshake: resolves with what was negotiated, then closes; rejects on error or at the deadline. */
function handshake(url: string, options: tls.ConnectionOptions = {}, timeoutMs = 5000) {
  return new Promise<{ alpn: string | false | null; protocol: string | null; cipher: string; peer: PeerCertificate }>((resolve, reject) => {
    const socket = tls.connect({ ...where(url), ca: certs.ca.cert, ...options });
    const timer = setTimeout(() => socket.destroy(new Error(`TIMEOUT: no handshake within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const result = { alpn: socket.alpnProtocol, protocol: socket.getProtocol(), cipher: socket.getCipher().name, peer: socket.getPeerCertificate() };
      socket.destroy();
      resolve(result);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** Runs corral until it exits by itself (a refused setting); always reaped. */
async function runToExit(args: string[]) {
  const corral = startCorral(args);
  try {
    const exit = await corral.waitForExit(10_000);
    return { code: exit.code, output: corral.output.trim() };
  } finally {
    await corral.stop();
  }
}

let configCount = 0;
function configFile(content: string): string {
  const dir = join(certs.dir, `config-${(configCount += 1)}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'corral.config.mjs');
  writeFileSync(file, content);
  return file;
}

test('HTTPS serves the app with ALPN http/1.1; plain HTTP on the TLS port is not served', async () => {
  await withCorral(tlsArgs(ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    const response = await httpsGet(url, '/hello');
    assert.is(response.status, 200);
    const echoed = JSON.parse(response.body);
    assert.is(echoed.encrypted, true, 'req.socket.encrypted');
    assert.is(echoed.url, '/hello');
    assert.is(response.peer.fingerprint256, certs.server.fingerprint256);

    const negotiated = await handshake(url, { ALPNProtocols: ['http/1.1', 'h2'] });
    assert.is(negotiated.alpn, 'http/1.1');
    const preferringH2 = await handshake(url, { ALPNProtocols: ['h2', 'http/1.1'] });
    assert.is(preferringH2.alpn, 'http/1.1', 'h2 is never chosen');
    // An HTTP/1.0 client offers http/1.0 alone (curl --http1.0), and is served in it.
    const onlyHttp10 = await handshake(url, { ALPNProtocols: ['http/1.0'] });
    assert.is(onlyHttp10.alpn, 'http/1.0');

    const plain = await request(url, { timeoutMs: 5000 }).then(
      (answer) => ({ status: answer.status, error: undefined }),
      (error: Error) => ({ status: undefined, error }),
    );
    assert.is.not(plain.status, 200, 'plain HTTP to the TLS port gets no 200');
    if (plain.error) assert.not.match(plain.error.message, /timed out/, 'plain HTTP is cut, not left hanging');
    // The worker is none the worse for it.
    assert.is((await httpsGet(url)).status, 200);
  });
});

test('a fetch app over TLS is handed an https:// URL and client.scheme https', async () => {
  await withCorral(tlsArgs(fixture('fetch-url-app.mjs')), async (corral) => {
    const [url] = await corral.ready();
    const response = await httpsGet(url, '/where?x=1');
    assert.is(response.status, 200);
    const seen = JSON.parse(response.body);
    assert.match(seen.url, /^https:\/\//);
    assert.ok(seen.url.endsWith('/where?x=1'), seen.url);
    assert.is(seen.client?.scheme, 'https');
  });
});

test('--cert-reqs required: only a client certificate from --ca-certs gets in', async () => {
  await withCorral(tlsArgs('--ca-certs', certs.ca.certFile, '--cert-reqs', 'required', ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    await refused(httpsGet(url), 'no client certificate');
    const good = await httpsGet(url, '/', { cert: certs.client.cert, key: certs.client.key });
    assert.is(good.status, 200);
    await refused(httpsGet(url, '/', { cert: certs.otherClient.cert, key: certs.otherClient.key }), "the other CA's client certificate");
    // Same over TLS 1.2, where the refusal comes inside the handshake.
    await refused(httpsGet(url, '/', { maxVersion: 'TLSv1.2' }), 'no client certificate, TLS 1.2');
    assert.is((await httpsGet(url, '/', { maxVersion: 'TLSv1.2', cert: certs.client.cert, key: certs.client.key })).status, 200);
  });
});

test('--cert-reqs optional: no certificate or a good one is served; one from another CA is cut', async () => {
  await withCorral(tlsArgs('--ca-certs', certs.ca.certFile, '--cert-reqs', 'optional', ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    assert.is((await httpsGet(url)).status, 200, 'without a client certificate');
    assert.is((await httpsGet(url, '/', { cert: certs.client.cert, key: certs.client.key })).status, 200, 'with the good one');
    await refused(httpsGet(url, '/', { cert: certs.otherClient.cert, key: certs.otherClient.key }), "the other CA's client certificate");
    await refused(httpsGet(url, '/', { maxVersion: 'TLSv1.2', cert: certs.otherClient.cert, key: certs.otherClient.key }), "the other CA's client certificate, TLS 1.2");
    assert.is((await httpsGet(url)).status, 200, 'still serving');
  });
});

test('--ciphers limits the TLS 1.2 cipher suites', async () => {
  await withCorral(tlsArgs('--ciphers', 'ECDHE-RSA-AES128-GCM-SHA256', ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    const allowed = await httpsGet(url, '/', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    assert.is(allowed.status, 200);
    assert.is(allowed.protocol, 'TLSv1.2');
    assert.is(allowed.cipher, 'ECDHE-RSA-AES128-GCM-SHA256');
    const anyTls12 = await handshake(url, { maxVersion: 'TLSv1.2' });
    assert.is(anyTls12.cipher, 'ECDHE-RSA-AES128-GCM-SHA256', 'a client offering many gets the one allowed');
    await refused(httpsGet(url, '/', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }), 'a client offering only another TLS 1.2 cipher');
  });
});

test('sslContext hook: changing the options in place (minVersion TLSv1.3) is what the workers serve', async () => {
  const config = configFile("export default { sslContext(worker, options) { options.minVersion = 'TLSv1.3'; } };\n");
  await withCorral(tlsArgs('-c', config, ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    await refused(httpsGet(url, '/', { maxVersion: 'TLSv1.2' }), 'a TLS 1.2 client');
    const modern = await httpsGet(url);
    assert.is(modern.status, 200);
    assert.is(modern.protocol, 'TLSv1.3');
  });
});

test('sslContext hook: options it returns replace the defaults', async () => {
  const config = configFile(`import { readFileSync } from 'node:fs';
export default {
  sslContext(worker, options) {
    return { ...options, cert: readFileSync(${JSON.stringify(certs.renewed.certFile)}), key: readFileSync(${JSON.stringify(certs.renewed.keyFile)}) };
  },
};
`);
  await withCorral(tlsArgs('-c', config, ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    const response = await httpsGet(url);
    assert.is(response.status, 200);
    assert.is(response.peer.fingerprint256, certs.renewed.fingerprint256);
  });
});

test('sslContext hook that throws is logged and the defaults serve', async () => {
  const config = configFile("export default { sslContext() { throw new Error('hook exploded on purpose'); } };\n");
  await withCorral(tlsArgs('-c', config, ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    await corral.waitForLine(/\[ERROR\] Hook sslContext failed: .*hook exploded on purpose/);
    const response = await httpsGet(url);
    assert.is(response.status, 200);
    assert.is(response.peer.fingerprint256, certs.server.fingerprint256);
    assert.is(JSON.parse(response.body).encrypted, true);
  });
});

test('HUP after renewing the certificate files: new connections get the new certificate, no request fails', async () => {
  const dir = join(certs.dir, 'live');
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  copyFileSync(certs.server.certFile, certFile);
  copyFileSync(certs.server.keyFile, keyFile);
  await withCorral(['-w', '2', '-b', '127.0.0.1:0', '--certfile', certFile, '--keyfile', keyFile, ECHO_APP], async (corral) => {
    const [url] = await corral.ready();
    const before = await handshake(url);
    assert.is(before.peer.fingerprint256, certs.server.fingerprint256);
    assert.is(before.peer.serialNumber, certs.server.serialNumber);
    const oldWorkers = corral.workerPids();
    assert.is(oldWorkers.length, 2);

    // A few clients, each sending one request per fresh TLS connection, through the whole reload.
    let running = true;
    const outcome = { ok: 0, failures: [] as string[], fingerprints: new Map<string, number>() };
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const response = await httpsGet(url, '/pid', { timeoutMs: 10_000 });
          if (response.status === 200) outcome.ok += 1;
          else outcome.failures.push(`status ${response.status}`);
          const fingerprint = response.peer.fingerprint256;
          outcome.fingerprints.set(fingerprint, (outcome.fingerprints.get(fingerprint) ?? 0) + 1);
        } catch (error) {
          outcome.failures.push((error as Error).message);
        }
      }
    });
    try {
      await waitUntil(() => outcome.ok > 20, { what: 'requests to be flowing' });
      copyFileSync(certs.renewed.certFile, certFile);
      copyFileSync(certs.renewed.keyFile, keyFile);
      const from = corral.lines.length;
      corral.signal('SIGHUP');
      await corral.waitForLine(/\[INFO\] Reload complete: generation 2 serving/, { from, timeoutMs: 15_000 });
      await waitUntil(() => oldWorkers.every((pid) => !isAlive(pid)), { timeoutMs: 10_000, what: 'the old workers to exit' });
      const okAfter = outcome.ok;
      await waitUntil(() => outcome.ok > okAfter + 20, { what: 'requests after the reload' });
    } finally {
      running = false;
      await Promise.all(loops);
    }
    assert.equal(outcome.failures, [], `${outcome.failures.length} requests failed during the reload`);
    assert.ok((outcome.fingerprints.get(certs.server.fingerprint256) ?? 0) > 0, 'the old certificate was served before');
    assert.ok((outcome.fingerprints.get(certs.renewed.fingerprint256) ?? 0) > 0, 'the new certificate was served after');
    for (let i = 0; i < 4; i += 1) {
      const after = await handshake(url);
      assert.is(after.peer.fingerprint256, certs.renewed.fingerprint256, 'every new connection gets the renewed certificate');
      assert.is(after.peer.serialNumber, certs.renewed.serialNumber);
    }
    assert.is(corral.liveWorkerPids().length, 2);
  });
});

test('HUP while the certificate file is unreadable: the reload fails and the old workers keep serving', async () => {
  const dir = join(certs.dir, 'vanishing');
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  copyFileSync(certs.server.certFile, certFile);
  copyFileSync(certs.server.keyFile, keyFile);
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--certfile', certFile, '--keyfile', keyFile, ECHO_APP], async (corral) => {
    const [url] = await corral.ready();
    const workers = corral.workerPids();
    renameSync(certFile, `${certFile}.gone`);
    const from = corral.lines.length;
    corral.signal('SIGHUP');
    const { match } = await corral.waitForLine(/\[ERROR\] Reload failed, (?:keeping the current workers|the previous workers keep serving): (.*)/, { from, timeoutMs: 15_000 });
    assert.ok(match[1].includes(certFile), `the failure names the file: ${match[1]}`);
    const response = await httpsGet(url);
    assert.is(response.status, 200);
    assert.is(response.peer.fingerprint256, certs.server.fingerprint256);
    assert.ok(workers.every(isAlive), 'the original worker is still up');
    assert.equal(corral.liveWorkerPids(), workers, 'no new worker was started');
  });
});

const noStackTrace = (output: string) => assert.not.match(output, /^\s+at /m, `no stack trace:\n${output}`);

test('a missing certfile stops corral at startup with one line naming the setting and the path', async () => {
  const missing = join(certs.dir, 'nowhere', 'absent.pem');
  const { code, output } = await runToExit(tlsArgs(ECHO_APP).map((arg) => (arg === certs.server.certFile ? missing : arg)));
  assert.is(code, 1, output);
  assert.is(output.split('\n').length, 1, `one line:\n${output}`);
  assert.ok(output.includes(missing), `names the path: ${output}`);
  assert.match(output, /certfile/, 'names the setting');
  noStackTrace(output);
});

test('--certfile without --keyfile stops corral at startup', async () => {
  const { code, output } = await runToExit(['-b', '127.0.0.1:0', '--certfile', certs.server.certFile, ECHO_APP]);
  assert.is(code, 1, output);
  assert.is(output.split('\n').length, 1, `one line:\n${output}`);
  assert.match(output, /keyfile/);
  noStackTrace(output);
});

test('--cert-reqs required without --ca-certs stops corral at startup', async () => {
  const { code, output } = await runToExit(tlsArgs('--cert-reqs', 'required', ECHO_APP));
  assert.is(code, 1, output);
  assert.is(output.split('\n').length, 1, `one line:\n${output}`);
  assert.match(output, /ca-certs/);
  noStackTrace(output);
});

test('--check-config with a key file that is no key exits 1', async () => {
  const badKey = join(certs.dir, 'bad.key');
  writeFileSync(badKey, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
  const { code, output } = await runToExit(['--check-config', '--certfile', certs.server.certFile, '--keyfile', badKey, ECHO_APP]);
  assert.is(code, 1, output);
  assert.not.match(output, /are fine/);
  assert.ok(output.includes(badKey), `names the key file: ${output}`);
  noStackTrace(output);
  // The good pair passes the same check.
  const good = await runToExit(['--check-config', '--certfile', certs.server.certFile, '--keyfile', certs.server.keyFile, ECHO_APP]);
  assert.is(good.code, 0, good.output);
});

test('the sync kind serves HTTPS', async () => {
  await withCorral(tlsArgs('-k', 'sync', ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    assert.match(corral.output, /Using worker: sync/);
    const response = await httpsGet(url, '/sync');
    assert.is(response.status, 200);
    assert.is(JSON.parse(response.body).encrypted, true);
    assert.is(response.peer.fingerprint256, certs.server.fingerprint256);
  });
});

/**
 * Writes `request` on a TLS connection, after `preface` in the clear if given
 * (a PROXY header), and resolves with everything answered until the server ends it.
 */
function tlsExchange(url: string, request: string, { preface, halfClose = false, timeoutMs = 5000 }: { preface?: string; halfClose?: boolean; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(where(url));
    const timer = setTimeout(() => {
      raw.destroy();
      reject(new Error(`TIMEOUT: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    raw.on('error', reject);
    raw.once('connect', () => {
      if (preface) raw.write(preface);
      const secure = tls.connect({ socket: raw, ca: certs.ca.cert, servername: 'localhost' });
      let answer = '';
      secure.setEncoding('utf8');
      secure.on('data', (chunk: string) => (answer += chunk));
      secure.on('error', reject);
      secure.on('end', () => {
        clearTimeout(timer);
        resolve(answer);
      });
      secure.once('secureConnect', () => (halfClose ? secure.end(request) : secure.write(request)));
    });
  });
}

test('PROXY protocol in front of TLS: the client named in the header, over HTTPS', async () => {
  await withCorral(tlsArgs('--proxy-protocol', ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    assert.match(url, /^https:\/\//, 'an HTTPS listener is logged as https://');
    const answer = await tlsExchange(url, 'GET /behind-proxy HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', {
      preface: 'PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n',
    });
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const seen = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    assert.is(seen.remoteAddress, '203.0.113.7');
    assert.is(seen.encrypted, true);
    // Without a header the same listener serves the TCP peer as it is.
    const plain = JSON.parse((await httpsGet(url, '/no-header')).body);
    assert.is(plain.remoteAddress, '127.0.0.1');
  });
});

test('--permit-obsolete-folding over TLS: a folded header reaches the app as one line, keep-alive intact', async () => {
  await withCorral(tlsArgs('--permit-obsolete-folding', ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    const answer = await tlsExchange(
      url,
      'GET /folded HTTP/1.1\r\nHost: localhost\r\nX-A: b\r\n  c\r\n\r\nGET /next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    assert.equal(answer.match(/HTTP\/1\.1 \d+/g), ['HTTP/1.1 200', 'HTTP/1.1 200']);
    const first = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4, answer.indexOf('HTTP/1.1', 10)));
    assert.equal(first.headers.slice(2, 4), ['X-A', 'b c']);
  });
});

test('over TLS, chunk extensions with BWS (RFC 9112 §7.1.1) are accepted on any request of a connection, not only its first', async () => {
  await withCorral(tlsArgs(ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    const answer = await tlsExchange(
      url,
      'GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n' +
        'POST /bws HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3 ; a = "x ; y"\r\nabc\r\n2\t;\tb\r\nde\r\n0\r\n\r\n',
    );
    assert.equal(answer.match(/HTTP\/1\.1 \d+/g), ['HTTP/1.1 200', 'HTTP/1.1 200'], answer.slice(0, 400));
    const second = JSON.parse(answer.slice(answer.lastIndexOf('\r\n\r\n') + 4));
    assert.is(second.url, '/bws');
    assert.is(second.body, 'abcde');
  });
});

test('over TLS, a request followed by a half-close (close_notify) is answered, then the connection ends', async () => {
  await withCorral(tlsArgs(ECHO_APP), async (corral) => {
    const [url] = await corral.ready();
    const answer = await tlsExchange(url, 'GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n', { halfClose: true });
    assert.match(answer, /^HTTP\/1\.1 200 /, `answered: ${JSON.stringify(answer.slice(0, 200))}`);
    assert.is(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).url, '/slow');
  });
});

test('the thread kind serves HTTPS', async () => {
  await withCorral(tlsArgs('-k', 'thread', '--threads', '2', fixture('thread-fetch-app.mjs')), async (corral) => {
    const [url] = await corral.ready();
    assert.match(corral.output, /Using worker: thread/);
    const response = await httpsGet(url, '/where');
    assert.is(response.status, 200);
    assert.type(JSON.parse(response.body).threadId, 'number');
    assert.is(response.peer.fingerprint256, certs.server.fingerprint256);
  });
});

test.run();
