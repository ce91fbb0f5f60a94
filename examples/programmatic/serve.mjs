// serve() from a script: the express example on two workers, a rolling reload,
// scaling to three, then a clean stop. `node examples/programmatic/serve.mjs`
// This process is the arbiter; BIND picks the address (default a free port).
import { serve } from 'corral';

const server = await serve({
  app: '../express/app.cjs',
  cwd: new URL('.', import.meta.url).pathname,
  bind: process.env.BIND ?? '127.0.0.1:0',
  workers: 2,
  logLevel: 'warning',
});
const [url] = await server.ready;
console.log(`serving ${url}`);

const readyPids = () => server.status().processes.filter((worker) => worker.ready && !worker.retiring).map((worker) => worker.pid);
console.log(`workers ${readyPids().join(' ')}`);
console.log(`GET / ${await (await fetch(url)).text()}`);

// A rolling reload: new workers load the app afresh, each ready before an old one drains.
await server.reload();
console.log(`reloaded, workers ${readyPids().join(' ')}`);

server.scale(3);
await new Promise((resolve) => {
  const check = () => readyPids().length === 3 && (server.off('state', check), resolve());
  server.on('state', check);
  check();
});
console.log(`scaled, workers ${readyPids().join(' ')}`);

console.log(`stopped with ${await server.stop()}`);
