// A supervisor of your own, as an XState machine, with corral's arbiter as its
// child actor: it scales the workers to a queue's length (one per 10 jobs, 1 to
// 4), reloads them when a file changes, and stops corral before it ends.
// `node examples/custom-supervisor/supervisor.mjs`
import { corralActor } from 'corral';
import { assign, createActor, sendTo, setup, waitFor } from 'xstate';

const workersFor = (queueLength) => Math.min(4, Math.max(1, Math.ceil(queueLength / 10)));

export const supervisor = setup({
  actors: { corral: corralActor },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ serve: input.serve, urls: [], wanted: 1, readyWorkers: 0, pids: [], error: undefined }),
  invoke: { id: 'corral', src: 'corral', input: ({ context }) => context.serve },
  on: {
    'corral.state': {
      actions: assign(({ event }) => {
        const serving = event.status.processes.filter((worker) => worker.ready && !worker.retiring);
        return { readyWorkers: serving.length, pids: serving.map((worker) => worker.pid) };
      }),
    },
  },
  initial: 'starting',
  states: {
    starting: {
      on: {
        'corral.ready': { target: 'running', actions: assign({ urls: ({ event }) => event.urls }) },
        'corral.error': { target: 'failed', actions: assign({ error: ({ event }) => event.error.message }) },
      },
    },
    running: {
      on: {
        'QUEUE.LENGTH': {
          actions: [
            assign({ wanted: ({ event }) => workersFor(event.length) }),
            sendTo('corral', ({ context }) => ({ type: 'SCALE', workers: context.wanted })),
          ],
        },
        'FILE.CHANGED': { actions: sendTo('corral', { type: 'RELOAD' }) },
        SHUTDOWN: { target: 'stopping', actions: sendTo('corral', { type: 'STOP', graceful: true }) },
      },
    },
    stopping: { on: { 'corral.exit': 'done' } },
    failed: { on: { 'corral.exit': 'done' } },
    done: { type: 'final' },
  },
});

const app = createActor(supervisor, {
  input: {
    serve: {
      app: '../hono/app.js',
      cwd: new URL('.', import.meta.url).pathname,
      bind: process.env.BIND ?? '127.0.0.1:0',
      workers: 1,
      logLevel: 'warning',
    },
  },
});
app.start();

const running = await waitFor(app, (state) => state.matches('running') || state.matches('failed'), { timeout: 30_000 });
if (running.matches('failed')) throw new Error(`corral did not start: ${running.context.error}`);
const [url] = running.context.urls;
console.log(`serving ${url}`);

app.send({ type: 'QUEUE.LENGTH', length: 35 });
await waitFor(app, (state) => state.context.readyWorkers === 4, { timeout: 30_000 });
console.log(`queue 35: 4 workers ${app.getSnapshot().context.pids.join(' ')}`);

app.send({ type: 'QUEUE.LENGTH', length: 3 });
await waitFor(app, (state) => state.context.readyWorkers === 1, { timeout: 30_000 });
console.log(`queue 3: 1 worker ${app.getSnapshot().context.pids.join(' ')}`);
console.log(`GET / ${await (await fetch(url)).text()}`);

app.send({ type: 'SHUTDOWN' });
await waitFor(app, (state) => state.status === 'done', { timeout: 30_000 });
console.log('supervisor done, corral stopped');
