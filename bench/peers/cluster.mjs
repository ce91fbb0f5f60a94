// Reference peer: node:cluster, the closest built-in equivalent of a pre-fork
// server. Usage: node cluster.mjs [workers=2] [app=examples/test.js] [rr|none]
// rr: the primary accepts and hands connections round robin (Linux's default);
// none: every worker accepts on the shared socket itself, as corral's do.
// BENCH_KEEPALIVE_S sets the servers' keep-alive timeout (node's default: 5 s).
import cluster from 'node:cluster';
import http from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../lib/free-port.mjs';
import { stopClusterWorkers } from '../lib/stop-cluster.mjs';

const appPath = resolve(process.argv[3] ?? 'examples/test.js');
const scheduling = process.argv[4] ?? 'rr';

const PORT_ENV = 'BENCH_CLUSTER_PORT';

if (cluster.isPrimary) {
  const workers = Number.parseInt(process.argv[2] ?? '2', 10);
  if (!Number.isInteger(workers) || workers < 1) {
    console.error(`invalid worker count: ${process.argv[2]}`);
    process.exit(2);
  }

  // Must be set before the first fork; the default on Linux already is RR,
  // but being explicit keeps the comparison honest on every platform.
  cluster.schedulingPolicy = scheduling === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;

  // Workers must all bind the same, known port: pick a free one up front.
  const port = await freePort();

  let listening = 0;
  let stopping = false;

  cluster.on('listening', () => {
    listening += 1;
    if (listening === workers) process.stdout.write(`LISTENING ${port}\n`);
  });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    // No respawn: this peer exists to be measured, and a dying worker would
    // silently skew the numbers, so fail loudly instead.
    console.error(`worker ${worker.process.pid} exited (code ${code}, signal ${signal})`);
    shutdown(1);
  });

  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));

  for (let i = 0; i < workers; i += 1) {
    cluster.fork({ [PORT_ENV]: String(port) });
  }

  function shutdown(code) {
    if (stopping) return;
    stopping = true;
    stopClusterWorkers(code);
  }
} else {
  const port = Number(process.env[PORT_ENV]);
  const { default: app } = await import(pathToFileURL(appPath).href);
  const server = http.createServer(app);
  if (process.env.BENCH_KEEPALIVE_S) server.keepAliveTimeout = Number(process.env.BENCH_KEEPALIVE_S) * 1000;
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close();
    process.exit(0);
  });
}
