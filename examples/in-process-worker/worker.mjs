// One worker actor in this process, no arbiter: the hono example served by the
// same worker chart and kind a worker process runs. For tests, or one-process
// embeddings that something else supervises. `node examples/in-process-worker/worker.mjs`
import { startWorker } from 'corral';

const worker = await startWorker({
  app: '../hono/app.js',
  cwd: new URL('.', import.meta.url).pathname,
  bind: process.env.BIND ?? '127.0.0.1:0',
  logLevel: 'warning',
});
const [url] = await worker.ready;
console.log(`serving ${url} from process ${process.pid}`);
console.log(`worker state ${JSON.stringify(worker.actor.getSnapshot().value)}`);
console.log(`GET / ${await (await fetch(url)).text()}`);
console.log(`stopped with ${await worker.stop()}`);
