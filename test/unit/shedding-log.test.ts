// Shed connections are counted by reason and logged at most once an interval.
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sheddingLog } from '../../src/kinds/shedding-log.js';
import type { Logger } from '../../src/log/logger.js';

const INTERVAL = 100;

function recording() {
  const lines: { at: number; text: string }[] = [];
  const logger = { warning: (text: string) => lines.push({ at: performance.now(), text }) } as unknown as Logger;
  return { lines, logger };
}

test('the first shed connection is logged at once; a flood within the interval is one more line with its count', async () => {
  const { lines, logger } = recording();
  const shed = sheddingLog(logger, INTERVAL);
  shed('at --worker-connections 2');
  assert.is(lines.length, 1);
  assert.match(lines[0].text, /^Worker \(pid: \d+\) closed 1 new connection: 1 at --worker-connections 2$/);
  for (let i = 0; i < 500; i += 1) shed(i % 100 === 0 ? 'not accepted (EMFILE)' : 'at --worker-connections 2');
  assert.is(lines.length, 1, 'nothing more within the interval');
  const deadline = performance.now() + 5000;
  while (lines.length < 2 && performance.now() < deadline) await sleep(10);
  assert.match(lines[1].text, /closed 500 new connections: 5 not accepted \(EMFILE\), 495 at --worker-connections 2$/);
  assert.ok(lines[1].at - lines[0].at >= INTERVAL - 1, 'at most one line an interval');
  await sleep(INTERVAL * 2);
  assert.is(lines.length, 2, 'no line without a connection shed');
});

test.run();
