// The dirty bench's app: 5 ms of CPU work per request (BENCH_WORK_MS), done on
// the worker's event loop, or (BENCH_DIRTY=1) through the dirty pool, with
// bench/apps/dirty-work-model.mjs as --dirty-app. `/fast` answers at once: its
// latency under load shows whether the event loop is free.
import { dirty } from '../../dist/src/index.js';
import { work } from './dirty-work-model.mjs';

const WORK_MS = Number(process.env.BENCH_WORK_MS ?? 5);
const THROUGH_DIRTY = process.env.BENCH_DIRTY === '1';

export default async function app(req, res) {
  if (req.url === '/fast') return res.end('fast');
  const digest = THROUGH_DIRTY ? await dirty.execute('work', WORK_MS) : work(WORK_MS);
  res.end(digest);
}
