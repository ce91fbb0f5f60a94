// "Did you mean …?" for mistyped flags and config keys: near names only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closestName, editDistance } from '../../src/config/did-you-mean.js';

test('edit distance counts insertions, deletions, substitutions and swaps of neighbours', () => {
  assert.is(editDistance('wokers', 'workers'), 1);
  assert.is(editDistance('wrokers', 'workers'), 1);
  assert.is(editDistance('timeout', 'timeout'), 0);
  assert.is(editDistance('', 'bind'), 4);
});

test('the nearest known name, if near enough to be a typo', () => {
  const known = ['workers', 'worker-class', 'worker-connections', 'bind', 'backlog', 'timeout', 'gracefulTimeout'];
  assert.is(closestName('wokers', known), 'workers');
  assert.is(closestName('worker', known), 'workers');
  assert.is(closestName('bnd', known), 'bind');
  assert.is(closestName('gracefullTimeout', known), 'gracefulTimeout');
  assert.is(closestName('GRACEFULTIMEOUT', known), 'gracefulTimeout');
  assert.is(closestName('daemon', known), undefined);
  assert.is(closestName('x', known), undefined);
});

test.run();
