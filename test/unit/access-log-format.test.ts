// The access-log format compiler: every gunicorn atom, on requests built by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accessLogFormatter } from '../../src/log/access-log.js';
import { type AccessLogEntry, type AccessLogRequest, basicAuthUser, compileAccessLogFormat } from '../../src/log/access-log-format.js';

// A fixed zone (POSIX sign: GMT+7 is UTC-7), so `%(t)s` is the reference's example to the letter.
process.env.TZ = 'Etc/GMT+7';

const GUNICORN_DEFAULT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';
/** 10/Oct/2000 13:55:36 at UTC-7. */
const FINISHED_AT = Date.UTC(2000, 9, 10, 20, 55, 36, 250);

function entry(overrides: { req?: Partial<AccessLogRequest>; headers?: Record<string, string | string[]>; responseHeaders?: Record<string, string | number | string[]>; rawHeader?: string | null } & Partial<Omit<AccessLogEntry, 'req' | 'res'>> = {}): AccessLogEntry {
  const responseHeaders = overrides.responseHeaders ?? {};
  return {
    req: {
      method: 'GET',
      url: '/apache_pb.gif?x=1&y=2',
      httpVersion: '1.1',
      socket: { remoteAddress: '192.168.0.7' },
      ...overrides.req,
      headers: { host: 'example.com', ...overrides.headers },
    },
    res: {
      statusCode: 200,
      getHeader: (name) => responseHeaders[name],
      _header: overrides.rawHeader ?? null,
    },
    bodyBytes: overrides.bodyBytes ?? 2326,
    durationNs: overrides.durationNs ?? 1_234_567_891n,
    finishedAt: overrides.finishedAt ?? FINISHED_AT,
  };
}

const render = (format: string, from: AccessLogEntry = entry()) => compileAccessLogFormat(format)(from);
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

test("the default format gives gunicorn's line for a known request", () => {
  const line = render(
    GUNICORN_DEFAULT,
    entry({
      headers: {
        authorization: basic('frank:secret'),
        referer: 'http://www.example.com/start.html',
        'user-agent': 'Mozilla/4.08 [en] (Win98; I ;Nav)',
      },
    }),
  );
  assert.is(
    line,
    '192.168.0.7 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?x=1&y=2 HTTP/1.1" 200 2326 ' +
      '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
  );
});

test('the default format with nothing optional present prints dashes', () => {
  assert.is(
    render(GUNICORN_DEFAULT, entry({ req: { url: '/' }, bodyBytes: 0 })),
    '192.168.0.7 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 - "-" "-"',
  );
});

test('request atoms: h l r m U q H', () => {
  const from = entry({ req: { method: 'POST', url: '/a/b?c=1&d', httpVersion: '1.0' } });
  assert.is(render('%(h)s|%(l)s|%(r)s|%(m)s|%(U)s|%(q)s|%(H)s', from), '192.168.0.7|-|POST /a/b?c=1&d HTTP/1.0|POST|/a/b|c=1&d|HTTP/1.0');
  assert.is(render('%(U)s|%(q)s', entry({ req: { url: '/plain' } })), '/plain|-', 'no query string');
  assert.is(render('%(h)s', entry({ req: { socket: {} } })), '-', 'no remote address (unix socket)');
});

test('response atoms: s B b', () => {
  assert.is(render('%(s)s %(B)s %(b)s', entry({ bodyBytes: 14 })), '200 14 14');
  assert.is(render('%(B)s %(b)s', entry({ bodyBytes: 0 })), '0 -');
  const notFound = entry();
  notFound.res.statusCode = 404;
  assert.is(render('%(s)s', notFound), '404');
});

test('referer and user agent: f a', () => {
  assert.is(render('%(f)s|%(a)s', entry({ headers: { referer: 'http://r/', 'user-agent': 'curl/8' } })), 'http://r/|curl/8');
  assert.is(render('%(f)s|%(a)s'), '-|-');
});

test('u: the user of a Basic Authorization header, else -', () => {
  assert.is(render('%(u)s', entry({ headers: { authorization: basic('alice:pw:with:colons') } })), 'alice');
  assert.is(render('%(u)s', entry({ headers: { authorization: basic('onlyuser') } })), 'onlyuser');
  assert.is(render('%(u)s', entry({ headers: { authorization: 'Bearer abc.def' } })), '-');
  assert.is(render('%(u)s'), '-');
  assert.is(basicAuthUser(basic(':nopassword-user')), '-', 'an empty user name');
  assert.is(basicAuthUser(`basic ${Buffer.from('bob:x').toString('base64')}`), 'bob', 'the scheme in any case');
  assert.is(basicAuthUser(basic('ev"il\nname:x')), 'ev\\"il\\x0aname', 'quotes and control characters cannot forge a line');
});

test('t: local time with its offset, in brackets', () => {
  assert.is(render('%(t)s'), '[10/Oct/2000:13:55:36 -0700]');
  const format = compileAccessLogFormat('%(t)s');
  assert.is(format(entry({ finishedAt: Date.UTC(2001, 0, 2, 7, 4, 5) })), '[02/Jan/2001:00:04:05 -0700]');
  assert.is(format(entry({ finishedAt: Date.UTC(2001, 0, 2, 7, 4, 6) })), '[02/Jan/2001:00:04:06 -0700]', 'the next second is not the cached one');
});

test('durations: T whole seconds, D microseconds, M milliseconds, L decimal seconds', () => {
  assert.is(render('%(T)s %(D)s %(M)s %(L)s', entry({ durationNs: 1_234_567_891n })), '1 1234567 1234 1.234567');
  assert.is(render('%(T)s %(D)s %(M)s %(L)s', entry({ durationNs: 1_234_567n })), '0 1234 1 0.001234');
  assert.is(render('%(L)s', entry({ durationNs: 999n })), '0.000000');
});

test('p: the pid in angle brackets', () => {
  assert.is(render('%(p)s'), `<${process.pid}>`);
});

test('{header}i: a request header, by name in any case; - when absent', () => {
  const from = entry({ headers: { 'x-test': 'yes', 'x-many': ['a', 'b'] } });
  assert.is(render('%({x-test}i)s %({X-Test}i)s %({x-many}i)s %({x-none}i)s', from), 'yes yes a, b -');
});

test('{header}o: a response header, set with setHeader() or only in the header block sent', () => {
  const from = entry({
    responseHeaders: { 'content-type': 'text/plain', 'content-length': 14, 'set-cookie': ['a=1', 'b=2'] },
  });
  assert.is(render('%({Content-Type}o)s|%({content-length}o)s|%({set-cookie}o)s|%({x-none}o)s', from), 'text/plain|14|a=1, b=2|-');
  // writeHead(200, { ... }) sends headers that getHeader() never sees.
  const sentOnly = entry({ rawHeader: 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Trace:  abc \r\nDate: x\r\n\r\n' });
  assert.is(render('%({content-type}o)s|%({x-trace}o)s|%({etag}o)s', sentOnly), 'text/html|abc|-');
});

test('{VAR}e: an environment variable; - when unset', () => {
  process.env.CORRAL_ACCESS_TEST = 'from-env';
  delete process.env.CORRAL_ACCESS_UNSET;
  assert.is(render('%({CORRAL_ACCESS_TEST}e)s %({corral_access_test}e)s %({CORRAL_ACCESS_UNSET}e)s'), 'from-env from-env -');
  process.env.CORRAL_ACCESS_TEST = 'changed';
  assert.is(render('%({CORRAL_ACCESS_TEST}e)s'), 'changed', 'read when the line is written');
});

test('unknown atoms print -, as gunicorn does', () => {
  assert.is(render('%(z)s %(constructor)s %({x}q)s %()s'), '- - - -');
});

test('literal text, %% and stray percent signs are kept', () => {
  assert.is(render('100%% %(s)s % done %d'), '100% 200 % done %d');
  assert.is(render('no atoms at all'), 'no atoms at all');
  assert.is(render(''), '');
});

test('double quotes in values are escaped, so quoted fields stay one field', () => {
  const from = entry({ req: { url: '/a"b' }, headers: { 'user-agent': 'say "hi"', 'x-q': '"' } });
  assert.is(render('"%(r)s" "%(a)s" %({x-q}i)s %(U)s'), '"GET /apache_pb.gif?x=1&y=2 HTTP/1.1" "-" - /apache_pb.gif');
  assert.is(render('"%(r)s" "%(a)s" %({x-q}i)s %(U)s', from), '"GET /a\\"b HTTP/1.1" "say \\"hi\\"" \\" /a\\"b');
});

test('the compiled format lists its atoms', () => {
  assert.equal(compileAccessLogFormat('%(h)s "%(r)s" %(b)s %({x-test}i)s %%').atoms, ['h', 'r', 'b', '{x-test}i']);
});

test('%(request_id)s prints the X-Request-Id of the request, - without one', () => {
  assert.is(render('%(request_id)s', entry({ headers: { 'x-request-id': 'edge-42' } })), 'edge-42');
  assert.is(render('%(request_id)s'), '-');
});

test('json: every atom a named, typed field; what is missing is null; any text stays one line', () => {
  const format = accessLogFormatter(' json ');
  const line = format(entry({
    headers: { 'user-agent': 'curl/8 "x"', authorization: basic('ev"il\nname:pw'), 'x-request-id': 'edge-42' },
    req: { url: '/a\u0001b?q="1"' },
  }));
  assert.not.match(line, /\n/);
  assert.equal(JSON.parse(line), {
    time: '2000-10-10T20:55:36.250Z',
    remote_addr: '192.168.0.7',
    user: 'ev"il\nname',
    request: 'GET /a\u0001b?q="1" HTTP/1.1',
    method: 'GET',
    path: '/a\u0001b',
    query: 'q="1"',
    protocol: 'HTTP/1.1',
    status: 200,
    bytes: 2326,
    referer: null,
    user_agent: 'curl/8 "x"',
    duration_us: 1_234_567,
    duration_s: 1.234567,
    pid: process.pid,
    request_id: 'edge-42',
  });
  const bare = JSON.parse(format(entry({ req: { url: '/' }, bodyBytes: 0 })));
  assert.equal([bare.query, bare.user, bare.user_agent, bare.request_id, bare.bytes], [null, null, null, null, 0]);
  // The access log measures what the fields need, and assigns request ids.
  for (const atom of ['t', 'B', 'D', 'request_id']) assert.ok(format.atoms.includes(atom), atom);
});

test.run();
