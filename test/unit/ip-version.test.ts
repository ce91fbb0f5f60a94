// ipVersion answers as net.isIP does (it only avoids the cost of node's IPv6
// pattern at start), for well-formed, malformed and edge-case addresses.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressAllowList } from '../../src/sockets/address-allow-list.js';
import { parseBindAddress } from '../../src/sockets/bind-address.js';
import { ipVersion } from '../../src/sockets/ip-version.js';

const CASES = [
  '::1', '::', '1::', '::ffff:1.2.3.4', '::FFFF:1.2.3.4', '::ffff:01.2.3.4', '::ffff:256.1.1.1', '::1.2.3.4',
  '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8::', '1::2::3',
  '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '0:0:0:0:0:0:0:1', 'a:b:c:d:e:f:0:0', '12345::', 'g::',
  'fe80::1%eth0', 'fe80::1%', '%eth0', ' ::1', '::1 ', '[::1]', '2001:db8::/32', '', ':', ':::',
  '1.2.3.4', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', 'localhost', '1.2.3.4:80',
];

test('every case gets net.isIP’s answer', () => {
  for (const text of CASES) assert.is(ipVersion(text), net.isIP(text), JSON.stringify(text));
});

test('the allow list and -b parsing still tell IPv6 from the rest', () => {
  const allowed = addressAllowList(['127.0.0.1', '::1', 'fd00::/8']);
  assert.ok(allowed('::1'));
  assert.ok(allowed('fd12::5'));
  assert.ok(allowed('::ffff:127.0.0.1'));
  assert.not.ok(allowed('::2'));
  assert.not.ok(allowed('not-an-address'));
  assert.equal(parseBindAddress('::1'), { type: 'tcp', host: '::1', port: 8000 });
  assert.equal(parseBindAddress('[::1]:81'), { type: 'tcp', host: '::1', port: 81 });
  assert.equal(parseBindAddress('127.0.0.1:82'), { type: 'tcp', host: '127.0.0.1', port: 82 });
  assert.throws(() => parseBindAddress('[::zz]:81'), /invalid IPv6 address/);
});

test.run();
