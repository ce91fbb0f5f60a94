// The wait budget on a clock the test moves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitBudget } from '../../src/sockets/wait-budget.js';

test('allows waits until their share is spent, then refills with time up to its burst', () => {
  let now = 1000;
  const budget = waitBudget(0.05, 50, () => now);
  for (let i = 0; i < 25; i += 1) {
    assert.ok(budget.allows(), `wait ${i + 1} of the burst`);
    budget.spend(2);
  }
  assert.not.ok(budget.allows(), 'the burst of 50 ms is spent');
  now += 40; // 5 % of 40 ms: 2 ms back
  assert.ok(budget.allows());
  budget.spend(2);
  assert.not.ok(budget.allows());
  now += 60_000; // a minute later: back to the burst, no more
  for (let i = 0; i < 25; i += 1) budget.spend(2);
  assert.not.ok(budget.allows(), 'refilled to the burst, not beyond');
});

test.run();
