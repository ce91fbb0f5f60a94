// The hello app (examples/test.js) as PM2 runs it in cluster mode: each
// instance listens on the fixed port BENCH_PM2_PORT; PM2's primary shares it.
// Like the app corral serves, it does nothing special on shutdown.
import http from 'node:http';
import app from '../../examples/test.js';

const port = Number(process.env.BENCH_PM2_PORT);
if (!Number.isInteger(port) || port < 1) {
  console.error(`BENCH_PM2_PORT must be a port number, got "${process.env.BENCH_PM2_PORT}"`);
  process.exit(2);
}
http.createServer(app).listen(port, '127.0.0.1');
