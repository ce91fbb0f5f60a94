// The piscina task module: what each pool thread of the thread kind runs.
// Each thread loads the app with the project's loader into its own module
// cache, as soon as the thread starts, so threads are warm before their first
// request. A failed load is kept and reported by every task instead of thrown
// at import: piscina stops replacing threads that fail to start.
import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { loadApp } from '../app/load-app.js';
import type { ProbeResult, ThreadResponse, ThreadTask } from './thread-messages.js';
import { serveFetch } from './thread-serve-fetch.js';
import { serveNode } from './thread-serve-node.js';

export interface ThreadData {
  appModule: string;
  cwd: string;
}

const { appModule, cwd } = workerData as ThreadData;
const app = loadApp(appModule, cwd);
app.catch(() => {});

/** Sends the body back by transfer: piscina moves only a top-level value, so the response names what to move. */
function transferringBody(response: ThreadResponse): ThreadResponse {
  if (!response.body) return response;
  return move({ [transferableSymbol]: [response.body], [valueSymbol]: response }) as unknown as ThreadResponse;
}

export default async function runTask(task: ThreadTask): Promise<ThreadResponse | ProbeResult> {
  const loaded = await app;
  if (task.type === 'probe') return { shape: loaded.shape, origin: loaded.origin };
  const response = loaded.shape === 'fetch' ? await serveFetch(loaded.fetch, task) : await serveNode(loaded.handler, task);
  return transferringBody(response);
}
