// The known HTTP/2 floods, each sent as raw frames to the real CLI: rapid
// reset (CVE-2023-44487), CONTINUATION flood, PING and SETTINGS floods, a
// header list past the limit, a flood of invalid frames, too many streams, and
// a peer that never reads. Each time the flooding connection is ended, the
// worker stays up (same pid), and another client is served meanwhile.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, withCorral } from '../helpers/corral-process.js';
import { FLAG, FRAME, RawHttp2, frame, headerBlock, http2Get, requestFields, settingsFrame } from '../helpers/http2-client.js';

const APP = fixture('h2-app.js');
const portOf = (url: string) => Number(new URL(url).port);

/** Runs `flood` against a fresh corral (one worker); then the same worker must serve another client. */
async function survives(extra: string[], flood: (port: number, corral: CorralProcess, url: string) => Promise<void>) {
  await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--http-protocols', 'h2,h1', ...extra, APP], async (corral) => {
    const [url] = await corral.ready();
    const [worker] = corral.workerPids();
    await flood(portOf(url), corral, url);
    const after = await http2Get(url, '/pid');
    assert.is(after.body, String(worker), 'the same worker serves on');
    assert.equal(corral.liveWorkerPids(), [worker]);
  });
}

/** Writes `count` copies of `unit` in batches, stopping once the server has ended the connection. */
async function flood(raw: RawHttp2, unit: (index: number) => Buffer, count: number, batch = 100) {
  for (let start = 0; start < count && !raw.closed; start += batch) {
    const chunk: Buffer[] = [];
    for (let index = start; index < Math.min(count, start + batch); index += 1) chunk.push(unit(index));
    await raw.write(Buffer.concat(chunk));
  }
}

test('rapid reset (CVE-2023-44487): streams opened and reset at once end the connection with an error after a bounded number', async () => {
  await survives([], async (port) => {
    const raw = await RawHttp2.open(port);
    const block = headerBlock(requestFields('/pid'));
    await flood(raw, (index) => Buffer.concat([frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1 + index * 2, block), frame(FRAME.RST_STREAM, 0, 1 + index * 2, Buffer.from([0, 0, 0, 8]))]), 20_000);
    await raw.ended();
    const goaway = raw.goaway();
    assert.ok(goaway && goaway.errorCode !== 0, `GOAWAY ${JSON.stringify(goaway)}`);
    // node:http2 allows about a thousand such streams on one connection, not the 20000 sent.
    assert.ok(goaway.lastStreamId < 2 * 5000, `${(goaway.lastStreamId + 1) / 2} streams taken`);
    raw.destroy();
  });
});

test('CONTINUATION flood: endless CONTINUATION frames (empty, or growing the header list) end the connection', async () => {
  await survives([], async (port) => {
    for (const payload of [Buffer.alloc(0), headerBlock([['x-flood', 'v'.repeat(100)]])]) {
      const raw = await RawHttp2.open(port);
      await raw.write(frame(FRAME.HEADERS, 0, 1, headerBlock(requestFields('/pid'))));
      await flood(raw, () => frame(FRAME.CONTINUATION, 0, 1, payload), 100_000, 500);
      await raw.ended();
      assert.ok(raw.goaway() === undefined || raw.goaway()!.errorCode !== 0, `GOAWAY code ${raw.goaway()?.errorCode}`);
      assert.not.ok(raw.frames.some((each) => each.type === FRAME.HEADERS), 'the request never reached the app');
      raw.destroy();
    }
  });
});

test('PING and SETTINGS floods from a peer that does not read the acknowledgements end the connection', async () => {
  await survives([], async (port) => {
    const ping = frame(FRAME.PING, 0, 0, Buffer.alloc(8));
    for (const unit of [ping, settingsFrame([[3, 100]])]) {
      const raw = await RawHttp2.open(port, { paused: true });
      await flood(raw, () => unit, 200_000, 1000);
      raw.socket.resume();
      await raw.ended(15_000);
      raw.destroy();
    }
  });
});

test('a header list past --http2-max-header-list-size is refused once the client has its SETTINGS; without the ACK the field limits still answer 431', async () => {
  await survives(['--http2-max-header-list-size', '4096', '--limit-request-field_size', '0', '--limit-request-fields', '1000'], async (port) => {
    const raw = await RawHttp2.open(port);
    // SETTINGS apply once acknowledged (RFC 9113 §6.5.3): a client that never acknowledges them is bounded by the field limits, below.
    await raw.until("the server's SETTINGS", () => raw.frames.some((each) => each.type === FRAME.SETTINGS && each.flags === 0));
    await raw.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    await raw.until('our ACK taken', () => raw.frames.some((each) => each.type === FRAME.SETTINGS && each.flags === FLAG.ACK));
    const fields: [string, string][] = Array.from({ length: 80 }, (_, index) => [`x-big-${index}`, 'v'.repeat(100)]);
    await raw.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, headerBlock([...requestFields('/'), ...fields])));
    await raw.until('the stream refused', () => raw.closed || raw.goaway() !== undefined || raw.frames.some((each) => each.streamId === 1 && each.type === FRAME.RST_STREAM));
    assert.not.ok(raw.frames.some((each) => each.streamId === 1 && each.type === FRAME.DATA), 'the app never answered it');
    raw.destroy();
  });
  await survives([], async (port) => {
    const raw = await RawHttp2.open(port);
    const fields: [string, string][] = Array.from({ length: 101 }, (_, index) => [`x-many-${index}`, 'v']);
    await raw.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, headerBlock([...requestFields('/'), ...fields])));
    await raw.until('an answer on stream 1', () => raw.frames.some((each) => each.streamId === 1 && each.type === FRAME.DATA));
    const body = Buffer.concat(raw.frames.filter((each) => each.streamId === 1 && each.type === FRAME.DATA).map((each) => each.payload)).toString();
    assert.match(body, /more than 100 header fields/);
    raw.destroy();
  });
});

test('invalid frames and streams past --http2-max-concurrent-streams: the peer is disconnected', async () => {
  await survives(['--http2-max-concurrent-streams', '10'], async (port) => {
    // WINDOW_UPDATE with a zero increment on an idle stream, again and again: each is a protocol error.
    const raw = await RawHttp2.open(port);
    await flood(raw, (index) => frame(FRAME.WINDOW_UPDATE, 0, 1001 + index * 2, Buffer.alloc(4)), 5000);
    await raw.ended();
    raw.destroy();

    // Streams that stay open (slow answers) past the limit: refused, and a peer that keeps opening them is cut.
    const greedy = await RawHttp2.open(port);
    const block = headerBlock(requestFields('/slow?ms=5000'));
    await flood(greedy, (index) => frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1 + index * 2, block), 2000);
    await greedy.until('refused streams', () => greedy.closed || greedy.frames.some((each) => each.type === FRAME.RST_STREAM || each.type === FRAME.GOAWAY));
    greedy.destroy();
  });
});

test('a peer that never reads while a response waits is cut after --header-timeout; others are served meanwhile', async () => {
  await survives(['--header-timeout', '2'], async (port, corral, url) => {
    // A huge window, so the server writes until the socket itself is full: then nothing moves.
    const raw = await RawHttp2.open(port, { paused: true, settings: settingsFrame([[4, 2 ** 31 - 1]]) });
    await raw.write(frame(FRAME.WINDOW_UPDATE, 0, 0, Buffer.from([0x7f, 0xff, 0x00, 0x00])));
    await raw.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, headerBlock(requestFields('/big?bytes=200000000'))));
    // While it sits there, another client is served.
    assert.is((await http2Get(url, '/pid')).status, 200);
    await corral.waitForLine(/HTTP\/2 connection from 127\.0\.0\.1 cut: its client read nothing for 2 s/, { timeoutMs: 15_000 });
    raw.socket.resume();
    await raw.until('the connection closed', () => raw.closed, 30_000);
  });
});

test('a connection whose app takes longer than --header-timeout to answer, its client reading, is not cut', async () => {
  await survives(['--header-timeout', '1'], async (_port, corral, url) => {
    // Nothing moves on the connection for 3 s, but nothing waits for the client either: the app is working.
    const slow = await http2Get(url, '/slow?ms=3000');
    assert.is(slow.status, 200);
    assert.is(slow.body, 'slow done');
    assert.not.ok(corral.output.includes('cut: its client read nothing'), 'no connection was cut');
  });
});

test('an answer written after the worker thread was blocked past --header-timeout is sent, not cut as a stalled client', async () => {
  await survives(['--header-timeout', '1'], async (_port, corral, url) => {
    // Nothing moved on the connection while the thread was blocked, and the answer is queued, not yet sent, when
    // the stall check runs right after it: bytes waiting for a moment are not a client that reads nothing.
    const answer = await http2Get(url, '/answer-behind-block?block=1500');
    assert.is(answer.status, 200);
    assert.is(answer.body, 'answered');
    assert.not.ok(corral.output.includes('cut: its client read nothing'), 'no connection was cut');
  });
});

test('a connection that opens no stream is closed (GOAWAY) after --header-timeout, as a silent HTTP/1.1 one is', async () => {
  await survives(['--header-timeout', '1', '--keep-alive', '30'], async (port) => {
    const raw = await RawHttp2.open(port);
    const opened = Date.now();
    await raw.until('GOAWAY', () => raw.goaway() !== undefined, 10_000);
    assert.is(raw.goaway()!.errorCode, 0);
    assert.ok(Date.now() - opened >= 800, `after ${Date.now() - opened} ms`);
    raw.destroy();
  });
});

test.run();
