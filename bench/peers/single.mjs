// Baseline peer: one bare Node process, no supervisor, no cluster.
// Usage: node single.mjs [app=examples/test.js]; BENCH_KEEPALIVE_S as for cluster.mjs.
import http from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const { default: app } = await import(pathToFileURL(resolve(process.argv[2] ?? 'examples/test.js')).href);
const server = http.createServer(app);
if (process.env.BENCH_KEEPALIVE_S) server.keepAliveTimeout = Number(process.env.BENCH_KEEPALIVE_S) * 1000;

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

// Exit 0 on SIGTERM so the harness can tell a clean stop from a crash.
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
