// Peer for the HTTP/2 bench: one bare node:http2 server (cleartext, prior
// knowledge) serving the app through node's compatibility API, as corral does.
// Usage: node http2-single.mjs [app=examples/test.js]
import http2 from 'node:http2';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const { default: app } = await import(pathToFileURL(resolve(process.argv[2] ?? 'examples/test.js')).href);
const server = http2.createServer({}, app);

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
