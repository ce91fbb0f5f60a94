// Peer for the benches: Debian's gunicorn serving a WSGI app of bench/apps/.
// A node wrapper so the bench starts, reads and stops it like every other peer:
// it prints `LISTENING <port>` and passes SIGTERM on.
// Usage: node gunicorn.mjs [sync|gthread] [workers=2] [threads=8] [module:app=blocking_wsgi:app]
// BENCH_KEEPALIVE_S sets gunicorn's --keep-alive (gthread only: the sync worker closes every connection).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [kind = 'gthread', workers = '2', threads = '8', app = 'blocking_wsgi:app'] = process.argv.slice(2);
const appDir = fileURLToPath(new URL('../apps/', import.meta.url));
const keepAlive = process.env.BENCH_KEEPALIVE_S ? ['--keep-alive', process.env.BENCH_KEEPALIVE_S] : [];
const gunicorn = spawn(
  'gunicorn',
  ['-k', kind, '-w', workers, ...(kind === 'gthread' ? ['--threads', threads] : []), ...keepAlive, '-b', '127.0.0.1:0', '--chdir', appDir, app],
  { stdio: ['ignore', 'inherit', 'pipe'] },
);
gunicorn.on('error', (error) => {
  console.error(`cannot run gunicorn: ${error.message}`);
  process.exit(1);
});
gunicorn.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

let partial = '';
let reported = false;
gunicorn.stderr.setEncoding('utf8');
gunicorn.stderr.on('data', (chunk) => {
  process.stderr.write(chunk);
  const lines = (partial + chunk).split('\n');
  partial = lines.pop();
  for (const line of lines) {
    const port = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1];
    if (port && !reported) {
      reported = true;
      process.stdout.write(`LISTENING ${port}\n`);
    }
  }
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => gunicorn.kill(signal));
