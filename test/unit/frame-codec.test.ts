import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtocolError } from '../../src/errors.js';
import { FrameDecoder, encodeFrame } from '../../src/ipc/frame-codec.js';
import { validateMessage } from '../../src/ipc/protocol.js';

const heartbeat = (served: number) => ({ type: 'heartbeat', inFlight: 1, served, lagMs: 0.5, rss: 123456 });

test('a frame split across many chunks decodes once complete', () => {
  const frame = encodeFrame(heartbeat(7));
  const decoder = new FrameDecoder();
  for (let i = 0; i < frame.length - 1; i += 1) {
    assert.equal(decoder.push(frame.subarray(i, i + 1)).messages, [], `no message after ${i + 1} bytes`);
  }
  assert.equal(decoder.push(frame.subarray(frame.length - 1)).messages, [heartbeat(7)]);
});

test('three frames cut at every pair of places decode to the same messages', () => {
  const stream = Buffer.concat([encodeFrame(heartbeat(1)), encodeFrame({ type: 'ready' }), encodeFrame(heartbeat(3))]);
  for (let first = 0; first <= stream.length; first += 1) {
    for (let second = first; second <= stream.length; second += 1) {
      const decoder = new FrameDecoder();
      const messages = [stream.subarray(0, first), stream.subarray(first, second), stream.subarray(second)].flatMap((piece) => decoder.push(piece).messages);
      assert.equal(messages, [heartbeat(1), { type: 'ready' }, heartbeat(3)], `cut at ${first} and ${second}`);
    }
  }
});

test('a large frame arriving in pipe-sized reads decodes whole', () => {
  const payload = { type: 'blob', bytes: Buffer.alloc(4 * 1024 * 1024, 7) };
  const frame = encodeFrame(payload);
  const decoder = new FrameDecoder(8 * 1024 * 1024);
  const messages = [];
  for (let offset = 0; offset < frame.length; offset += 65_536) messages.push(...decoder.push(frame.subarray(offset, offset + 65_536)).messages);
  assert.is(messages.length, 1);
  assert.ok(Buffer.from((messages[0] as typeof payload).bytes).equals(payload.bytes));
});

test('many frames in one chunk all decode, in order', () => {
  const chunk = Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeFrame(heartbeat(i))));
  const { messages, error } = new FrameDecoder().push(chunk);
  assert.is(error, undefined);
  assert.equal(messages, Array.from({ length: 50 }, (_, i) => heartbeat(i)));
});

test('a chunk ending mid-frame keeps the tail for the next chunk', () => {
  const first = encodeFrame({ type: 'ready' });
  const two = Buffer.concat([first, encodeFrame({ type: 'booted' })]);
  const decoder = new FrameDecoder();
  const cut = first.length + 3; // the first frame whole, then part of the second's header
  assert.equal(decoder.push(two.subarray(0, cut)).messages, [{ type: 'ready' }]);
  assert.equal(decoder.push(two.subarray(cut)).messages, [{ type: 'booted' }]);
});

test('an oversized frame is a protocol error, and messages before it still count', () => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(64 * 1024 * 1024);
  const decoder = new FrameDecoder(1024);
  const { messages, error } = decoder.push(Buffer.concat([encodeFrame({ type: 'ready' }), header]));
  assert.equal(messages, [{ type: 'ready' }]);
  assert.instance(error, ProtocolError);
  assert.is(error!.code, 'CORRAL_ERR_IPC_FRAME_TOO_LARGE');
  assert.match(error!.message, /67108864 bytes exceeds the 1024-byte cap/);
  // The stream cannot be trusted after a bad frame: nothing more is decoded.
  assert.equal(decoder.push(encodeFrame({ type: 'ready' })).messages, []);
});

test('a body that is not one whole msgpack value is a protocol error', () => {
  for (const body of [[0x81] /* a map with its entry missing */, [0x01, 0x02] /* two values */]) {
    const frame = Buffer.concat([Buffer.from([0, 0, 0, body.length]), Buffer.from(body)]);
    const { messages, error } = new FrameDecoder().push(frame);
    assert.equal(messages, []);
    assert.is(error?.code, 'CORRAL_ERR_IPC_BAD_FRAME', JSON.stringify(body));
  }
});

test('garbage that decodes to something is still not a message', () => {
  assert.throws(() => validateMessage('toArbiter', 42), (error: ProtocolError) => error.code === 'CORRAL_ERR_IPC_BAD_FRAME');
  assert.throws(() => validateMessage('toArbiter', { type: 'drain' }), /unexpected message/);
  assert.throws(() => validateMessage('toWorker', { type: 'heartbeat' }), /unexpected message/);
  assert.throws(() => validateMessage('toArbiter', { type: 'heartbeat', served: 'x' }), /heartbeat without its counters/);
  assert.equal(validateMessage('toArbiter', heartbeat(1)), heartbeat(1));
});

test('random bytes never throw out of the decoder', () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 200; round += 1) {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    const decoder = new FrameDecoder(1024);
    const { messages } = decoder.push(bytes);
    for (const message of messages) {
      try {
        validateMessage('toArbiter', message);
      } catch (error) {
        assert.instance(error, ProtocolError);
      }
    }
  }
});

test.run();
