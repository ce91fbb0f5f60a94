// When a worker stands back after an accept, on a clock and with sleeps the test records.
import { EventEmitter } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spreadAccepts } from '../../src/kinds/spread-accepts.js';

function harness() {
  let time = 0;
  const sleeps: number[] = [];
  const accepted = spreadAccepts({ now: () => time, sleep: (ms) => sleeps.push(ms) });
  const open: EventEmitter[] = [];
  return {
    sleeps,
    accept: () => {
      const socket = new EventEmitter();
      open.push(socket);
      accepted(socket);
    },
    closeAll: () => {
      for (const socket of open.splice(0)) socket.emit('close');
    },
    pass: (ms: number) => (time += ms),
  };
}

test('a burst: each accept that is a new high stands back, longer the more the worker holds', () => {
  const { sleeps, accept } = harness();
  for (let i = 0; i < 5; i += 1) accept();
  assert.equal(sleeps.map((ms) => Number(ms.toFixed(2))), [0.3, 0.4, 0.5], 'none for the first two, then 0.1 ms a connection held');
});

test('an old high is forgotten after a quiet spell: a burst minutes later is spread again', () => {
  const { sleeps, accept, closeAll, pass } = harness();
  for (let i = 0; i < 200; i += 1) accept();
  closeAll();
  pass(5 * 60_000);
  sleeps.length = 0;
  for (let i = 0; i < 12; i += 1) accept();
  assert.is(sleeps.length, 10, 'every accept from the third stands back');
});

test('highs that wander by a few above the last second\'s do not stand back', () => {
  const { sleeps, accept, closeAll, pass } = harness();
  for (let i = 0; i < 10; i += 1) accept();
  closeAll();
  pass(1000);
  sleeps.length = 0;
  for (let second = 0; second < 20; second += 1) {
    // Each second's high is 10 or 12, the second before's 10 or 12.
    const peak = second % 2 === 0 ? 12 : 10;
    for (let i = 0; i < peak; i += 1) accept();
    closeAll();
    pass(1000);
  }
  assert.equal(sleeps, []);
});

test('a steady stream of short connections within its band never stands back', () => {
  const { sleeps, accept, closeAll, pass } = harness();
  for (let i = 0; i < 4; i += 1) accept();
  closeAll();
  const warmUp = sleeps.length;
  for (let second = 0; second < 5; second += 1) {
    for (let round = 0; round < 100; round += 1) {
      for (let i = 0; i < 4; i += 1) accept();
      closeAll();
      pass(10);
    }
  }
  assert.is(sleeps.length, warmUp, 'no stand-back once the band is known');
});

test('a flood of new connections: the sleeps stop at 5 % of the time', () => {
  const { sleeps, accept, pass } = harness();
  for (let i = 0; i < 10_000; i += 1) {
    accept();
    pass(0.1);
  }
  const slept = sleeps.reduce((sum, ms) => sum + ms, 0);
  // 1 s of accepts: a 50 ms burst and 5 % of the second.
  assert.ok(slept <= 101, `slept ${slept.toFixed(1)} ms in 1 s`);
  assert.ok(slept >= 50, `slept ${slept.toFixed(1)} ms: it did stand back`);
  assert.ok(Math.max(...sleeps) <= 2, 'never more than 2 ms at once');
});

test.run();
