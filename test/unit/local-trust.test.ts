// What corral ctl prints from a server, and which Host the inspector answers.
import { hostname } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { printable, printableJson, printableStrings } from '../../src/ctl/printable.js';
import { hostChecker } from '../../src/inspector/host-check.js';

const CONTROL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const hostile = 'a\x1b[2Jb\x07c\u009b31md\x7fe\nf\r\u202eg\u2066h';

test('printable: every control character is shown escaped, other text as it is', () => {
  assert.is(printable(hostile), 'a\\x1b[2Jb\\x07c\\x9b31md\\x7fe\\x0af\\x0d\\u202eg\\u2066h');
  assert.is(printable('worker-1 serving.steady ünïcode ✓'), 'worker-1 serving.steady ünïcode ✓');
  assert.equal(printableStrings({ [hostile]: [hostile, 1, null, { x: hostile }] }), {
    [printable(hostile)]: [printable(hostile), 1, null, { x: printable(hostile) }],
  });
});

test('printableJson: no control byte printed, and the data reads back intact', () => {
  const value = { name: hostile, list: [hostile], n: 1 };
  for (const indent of [undefined, 2]) {
    const text = printableJson(value, indent);
    assert.not.match(text.replace(/\n/g, ''), CONTROL);
    assert.equal(JSON.parse(text), value);
  }
});

test('hostChecker on loopback: localhost, 127.0.0.1, [::1] on its port, nothing else', () => {
  const allowed = hostChecker('127.0.0.1', 9200);
  for (const host of ['localhost:9200', '127.0.0.1:9200', '[::1]:9200', 'LocalHost:9200']) assert.ok(allowed(host), host);
  for (const host of [undefined, '', 'evil.example:9200', 'localhost:9201', 'localhost', '10.0.0.1:9200', 'evil.example@127.0.0.1:9200', '127.0.0.1:9200/x', 'localhost.:9200', `${hostname()}:9200`]) {
    assert.not.ok(allowed(host), String(host));
  }
  assert.ok(hostChecker('127.0.0.1', 80)('localhost'), 'port 80 may be left out');
});

test('hostChecker off loopback: also any IP address and this machine\'s name, still no other name', () => {
  const allowed = hostChecker('0.0.0.0', 9200);
  for (const host of ['10.0.0.1:9200', '[2001:db8::1]:9200', `${hostname()}:9200`, 'localhost:9200']) assert.ok(allowed(host), host);
  for (const host of ['evil.example:9200', '10.0.0.1:9300']) assert.not.ok(allowed(host), host);
  assert.ok(hostChecker('inspector.internal', 9200)('inspector.internal:9200'), 'the name it was bound to');
});

test.run();
