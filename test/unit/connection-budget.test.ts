// What --worker-connections comes to under a file-descriptor limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_WORKER_CONNECTIONS, connectionBudget, softFileLimit } from '../../src/worker/connection-budget.js';

const limits = (soft: string, hard: string) => `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files
Max locked memory         8388608              8388608              bytes
`;

test('the soft limit is read from /proc/self/limits; unlimited, unreadable or garbled is unknown', () => {
  assert.is(softFileLimit(() => limits('1024', '4096')), 1024);
  assert.is(softFileLimit(() => limits('unlimited', 'unlimited')), undefined);
  assert.is(softFileLimit(() => 'nothing here'), undefined);
  assert.is(
    softFileLimit(() => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    }),
    undefined,
  );
  // This machine's own, for real.
  assert.ok((softFileLimit() ?? 1) > 0);
});

test('the default (0) is the soft limit less a reserve, at most 10000; 10000 when the limit is unknown', () => {
  assert.equal(connectionBudget(0, 256), { connections: 192 });
  assert.equal(connectionBudget(0, 1024), { connections: 896 });
  assert.equal(connectionBudget(0, 4096), { connections: 3584 });
  assert.equal(connectionBudget(0, 1_048_576), { connections: MAX_WORKER_CONNECTIONS });
  assert.equal(connectionBudget(0, undefined), { connections: MAX_WORKER_CONNECTIONS });
  assert.equal(connectionBudget(0, 16), { connections: 1 });
});

test('a setting within the limit is kept; one past it is held to the limit, and says why', () => {
  assert.equal(connectionBudget(100, 256), { connections: 100 });
  assert.equal(connectionBudget(50_000, undefined), { connections: 50_000 });
  const capped = connectionBudget(10_000, 256);
  assert.is(capped.connections, 192);
  assert.match(capped.capped ?? '', /--worker-connections 10000 is more than the file-descriptor limit \(ulimit -n 256\) affords; holding at most 192/);
});

test.run();
