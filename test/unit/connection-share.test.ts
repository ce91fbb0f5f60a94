// The fair share of keep-alive connections: the arbiter's count of the pool and
// the share it answers, a worker's count of its own and which responses end a
// connection, and the messages that carry them.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionStrategyFor } from '../../src/arbiter/connection-strategy.js';
import type { DispatcherOptions } from '../../src/arbiter/connection-dispatcher.js';
import { ProtocolError } from '../../src/errors.js';
import { validateMessage } from '../../src/ipc/protocol.js';
import { ConnectionShare } from '../../src/kinds/connection-share.js';
import type { RequestCounters } from '../../src/kinds/contract.js';

const fakeSocket = () => new EventEmitter() as unknown as Socket;

function workerHolding(count: number) {
  const counters: RequestCounters = { inFlight: 0, served: 0 };
  const share = new ConnectionShare(counters);
  const sockets = Array.from({ length: count }, fakeSocket);
  sockets.forEach(share.accepted);
  return { counters, share, sockets };
}

/** How many of one response on each socket, then a second on each, end their connection. */
const ended = (share: ConnectionShare, sockets: Socket[]) => {
  sockets.forEach((socket) => share.endsConnection(socket));
  return sockets.filter((socket) => share.endsConnection(socket));
};

test('a worker counts the connections it holds until they close', () => {
  const { counters, sockets } = workerHolding(3);
  assert.is(counters.connections, 3);
  sockets[0].emit('close');
  assert.is(counters.connections, 2);
});

test('until the arbiter tells a share, no connection is ended', () => {
  const { share, sockets } = workerHolding(40);
  assert.is(ended(share, sockets).length, 0);
});

test('over its share, a worker ends the excess and no more, each after its second response', () => {
  const { share, sockets } = workerHolding(40);
  share.told(10);
  // A connection's first response is never its last: a client that sent one request may keep it idle.
  assert.is(sockets.filter((socket) => share.endsConnection(socket)).length, 0);
  const leaving = sockets.filter((socket) => share.endsConnection(socket));
  assert.is(leaving.length, 30);
  // Told to close but not closed yet: not ended twice over.
  assert.is(sockets.filter((socket) => share.endsConnection(socket)).length, 0);
  for (const socket of leaving) socket.emit('close');
  assert.is(sockets.filter((socket) => share.endsConnection(socket)).length, 0);
});

test('a connection that comes to a worker at its share is ended, so that it lands elsewhere', () => {
  const { share, sockets } = workerHolding(10);
  share.told(10);
  assert.is(ended(share, sockets).length, 0);
  const newcomer = fakeSocket();
  share.accepted(newcomer);
  assert.is(ended(share, [...sockets, newcomer]).length, 1);
});

test('a larger share, told later, stops the ending', () => {
  const { share, sockets } = workerHolding(20);
  share.told(10);
  share.told(20);
  assert.is(ended(share, sockets).length, 0);
});

const sharedAccept = () => connectionStrategyFor('async', process.cwd(), {} as DispatcherOptions);

test('the arbiter answers the fair share of what the pool holds, rounded up', async () => {
  const strategy = await sharedAccept();
  assert.is(strategy.share?.('a', 37), undefined, 'one worker: no sibling to share with');
  assert.is(strategy.share?.('b', 0), 19);
  assert.is(strategy.share?.('c', 0), 13);
  assert.is(strategy.share?.('a', 30), 10, "a worker's latest count replaces its last");
});

test("a worker that leaves no longer weighs in the pool's share", async () => {
  const strategy = await sharedAccept();
  strategy.share?.('a', 30);
  strategy.share?.('b', 10);
  strategy.retire('a');
  assert.is(strategy.share?.('b', 10), undefined);
  assert.is(strategy.share?.('c', 0), 5);
});

test('each server keeps its own count', async () => {
  const [one, two] = await Promise.all([sharedAccept(), sharedAccept()]);
  one.share?.('a', 30);
  assert.is(two.share?.('a', 0), undefined);
});

test('share and the heartbeat count travel only well formed', () => {
  assert.equal(validateMessage('toWorker', { type: 'share', connections: 13 }), { type: 'share', connections: 13 });
  for (const bad of [{ type: 'share' }, { type: 'share', connections: -1 }, { type: 'share', connections: 'many' }]) {
    assert.throws(() => validateMessage('toWorker', bad), (error: ProtocolError) => error.code === 'CORRAL_ERR_IPC_BAD_FRAME', JSON.stringify(bad));
  }
  assert.throws(() => validateMessage('toArbiter', { type: 'share', connections: 13 }), /unexpected message/);
  const heartbeat = { type: 'heartbeat', inFlight: 0, served: 0, lagMs: 0, rss: 0 };
  validateMessage('toArbiter', { ...heartbeat, connections: 4 });
  assert.throws(() => validateMessage('toArbiter', { ...heartbeat, connections: Number.NaN }), /malformed count of connections/);
});

test.run();
