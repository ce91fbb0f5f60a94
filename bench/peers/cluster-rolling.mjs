// Reference peer for the reload bench: node:cluster with a rolling restart on
// SIGHUP, the way it is usually written by hand. For each worker in turn: fork
// a replacement, wait for its 'listening', then `worker.disconnect()` the old
// one (its server stops accepting and it exits once its connections are gone).
// An old worker still alive `BENCH_CLUSTER_KILL_AFTER_MS` after the disconnect
// (default 30000, corral's --graceful-timeout) is SIGKILLed.
// Prints `LISTENING <port>` once the first workers listen and `RELOADED <n>`
// after the n-th rolling restart. Usage: node cluster-rolling.mjs [workers=2]
import cluster from 'node:cluster';
import { once } from 'node:events';
import http from 'node:http';
import app from '../../examples/test.js';
import { freePort } from '../lib/free-port.mjs';
import { stopClusterWorkers } from '../lib/stop-cluster.mjs';

const PORT_ENV = 'BENCH_CLUSTER_PORT';

if (cluster.isPrimary) {
  const size = Number.parseInt(process.argv[2] ?? '2', 10);
  if (!Number.isInteger(size) || size < 1) {
    console.error(`invalid worker count: ${process.argv[2]}`);
    process.exit(2);
  }
  const killAfterMs = Number(process.env.BENCH_CLUSTER_KILL_AFTER_MS ?? 30_000);

  cluster.schedulingPolicy = cluster.SCHED_RR;
  const port = await freePort();
  const fork = () => cluster.fork({ [PORT_ENV]: String(port) });

  let stopping = false;
  let reloading = false;
  let queued = 0;
  let reloads = 0;

  cluster.on('exit', (worker, code, signal) => {
    if (stopping || worker.exitedAfterDisconnect) return;
    // No respawn: a worker dying outside a reload would skew the figures, so fail loudly.
    console.error(`worker ${worker.process.pid} exited (code ${code}, signal ${signal})`);
    shutdown(1);
  });

  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGHUP', () => {
    queued += 1;
    if (!reloading) void drain();
  });

  const first = Array.from({ length: size }, fork);
  await Promise.all(first.map((worker) => once(worker, 'listening')));
  process.stdout.write(`LISTENING ${port}\n`);

  async function drain() {
    reloading = true;
    while (queued > 0 && !stopping) {
      queued -= 1;
      await rollingRestart();
      reloads += 1;
      process.stdout.write(`RELOADED ${reloads}\n`);
    }
    reloading = false;
  }

  async function rollingRestart() {
    for (const old of Object.values(cluster.workers ?? {})) {
      if (stopping) return;
      const fresh = fork();
      await once(fresh, 'listening');
      old.disconnect();
      const timer = setTimeout(() => {
        console.error(`worker ${old.process.pid} still alive ${killAfterMs} ms after disconnect, SIGKILL`);
        old.process.kill('SIGKILL');
      }, killAfterMs);
      old.once('exit', () => clearTimeout(timer));
    }
  }

  function shutdown(code) {
    if (stopping) return;
    stopping = true;
    stopClusterWorkers(code);
  }
} else {
  const port = Number(process.env[PORT_ENV]);
  const server = http.createServer(app);
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close();
    process.exit(0);
  });
}
