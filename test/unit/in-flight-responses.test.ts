// The ring of responses in flight: what a drain and a stop walk through.
import type { ServerResponse } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InFlightResponses } from '../../src/kinds/in-flight-responses.js';

const response = (name: string) => ({ name }) as unknown as ServerResponse;
const names = (ring: InFlightResponses) => [...ring].map((res) => (res as unknown as { name: string }).name);

test('keeps responses in the order they came; takes any one out; a second delete changes nothing', () => {
  const ring = new InFlightResponses();
  const [a, b, c] = ['a', 'b', 'c'].map(response);
  assert.equal(names(ring), []);
  ring.add(a);
  ring.add(b);
  ring.add(c);
  assert.equal(names(ring), ['a', 'b', 'c']);
  assert.ok(ring.delete(b), 'b was in');
  assert.not.ok(ring.delete(b), 'b was taken out already');
  assert.equal(names(ring), ['a', 'c']);
  assert.not.ok(ring.delete(response('never added')));
  assert.ok(ring.delete(a));
  assert.ok(ring.delete(c));
  assert.equal(names(ring), []);
  ring.add(b);
  assert.equal(names(ring), ['b'], 'a response taken out can come back');
});

test('a response ended (taken out) while the ring is walked does not stop the walk', () => {
  const ring = new InFlightResponses();
  const all = ['a', 'b', 'c', 'd'].map(response);
  all.forEach((res) => ring.add(res));
  const seen: string[] = [];
  for (const res of ring) {
    seen.push((res as unknown as { name: string }).name);
    ring.delete(res);
  }
  assert.equal(seen, ['a', 'b', 'c', 'd']);
  assert.equal(names(ring), []);
});

test.run();
