// An app as PM2 runs it in cluster mode: each instance listens on the fixed
// port BENCH_PM2_PORT (PM2's primary shares it) and serves BENCH_PM2_APP
// (default examples/test.js). Like the app corral serves, it does nothing
// special on shutdown. BENCH_KEEPALIVE_S sets the keep-alive timeout.
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const port = Number(process.env.BENCH_PM2_PORT);
if (!Number.isInteger(port) || port < 1) {
  console.error(`BENCH_PM2_PORT must be a port number, got "${process.env.BENCH_PM2_PORT}"`);
  process.exit(2);
}
const appUrl = process.env.BENCH_PM2_APP ? pathToFileURL(process.env.BENCH_PM2_APP).href : new URL('../../examples/test.js', import.meta.url).href;
const { default: app } = await import(appUrl);
const server = http.createServer(app);
if (process.env.BENCH_KEEPALIVE_S) server.keepAliveTimeout = Number(process.env.BENCH_KEEPALIVE_S) * 1000;
server.listen(port, '127.0.0.1');
