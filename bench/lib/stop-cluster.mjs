// How the node:cluster peers stop: SIGTERM every worker, exit with `code` once
// they are all gone, and never hang on a stuck one (SIGKILL after 5 s).
import cluster from 'node:cluster';

export function stopClusterWorkers(code) {
  const alive = Object.values(cluster.workers ?? {});
  if (alive.length === 0) process.exit(code);
  let remaining = alive.length;
  for (const worker of alive) {
    worker.once('exit', () => {
      remaining -= 1;
      if (remaining === 0) process.exit(code);
    });
    worker.process.kill('SIGTERM');
  }
  setTimeout(() => {
    for (const worker of alive) worker.process.kill('SIGKILL');
    process.exit(code || 1);
  }, 5000).unref();
}
