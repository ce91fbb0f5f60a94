// An app that sends heavy work to the dirty pool:
//   corral -w 2 --dirty-app examples/dirty/model.js --dirty-workers 1 examples/dirty/app.js
// The index is held once (in the dirty process), the workers stay small, and a
// 200 ms blocking call does not hold up the worker's other requests.
import { createHash } from 'node:crypto';
import { dirty } from 'corral';

const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** The same `ms` of CPU work as the dirty module's work(), done here on the event loop. */
function workInline(ms) {
  const until = performance.now() + ms;
  let digest = Buffer.alloc(32);
  while (performance.now() < until) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex').slice(0, 16);
}

export default async function app(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const q = (name, fallback) => url.searchParams.get(name) ?? fallback;
  try {
    switch (url.pathname) {
      case '/lookup':
        return json(res, 200, await dirty.execute('lookup', q('key', 'key-1')));
      case '/info':
        return json(res, 200, { worker: { pid: process.pid, rss: process.memoryUsage().rss }, dirty: await dirty.execute('info') });
      case '/block':
        return json(res, 200, await dirty.execute('block', Number(q('ms', '200'))));
      case '/sleep': {
        const timeout = url.searchParams.has('timeout') ? Number(q('timeout')) : undefined;
        const client = timeout === undefined ? dirty : dirty.with({ timeout });
        return json(res, 200, await client.execute('sleep', Number(q('ms', '100'))));
      }
      case '/work':
        return json(res, 200, { digest: await dirty.execute('work', Number(q('ms', '5'))) });
      case '/work-inline':
        return json(res, 200, { digest: workInline(Number(q('ms', '5'))) });
      case '/echo':
        return json(res, 200, await dirty.execute('echo', { text: 'hé', list: [1, 2.5, null, true], bytes: Buffer.from('bin') }).then((value) => ({
          ...value,
          bytes: Buffer.from(value.bytes).toString('base64'),
        })));
      case '/crash':
        return json(res, 200, await dirty.execute('crash'));
      case '/fail':
        return json(res, 200, await dirty.execute('fail', q('message', 'boom')));
      case '/blob':
        return json(res, 200, { length: (await dirty.execute('blob', Number(q('bytes', '10')))).length });
      case '/big-args':
        return json(res, 200, await dirty.execute('echo', Buffer.alloc(Number(q('bytes', '10')))));
      case '/missing':
        return json(res, 200, await dirty.execute('noSuchFunction'));
      case '/stream': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        for await (const chunk of dirty.stream('count', Number(q('to', '3')), Number(q('every', '0')))) res.write(`${chunk.n}\n`);
        return res.end();
      }
      case '/fast':
        return json(res, 200, { pid: process.pid, at: Date.now() });
      default:
        return json(res, 404, { error: 'not found' });
    }
  } catch (error) {
    return json(res, 500, { code: error.code, message: error.message });
  }
}
