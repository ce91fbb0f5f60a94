// What each pool thread of the thread kind runs: piscina's task module, whose one
// task a thread is a lane (thread-pool.ts). The lane loads the app with the
// project's loader into the thread's own module cache, says so (or why it
// could not), then serves the requests the main thread sends on its port: each
// in a ThreadExchange, node-style apps as they are, fetch-style ones through
// the same fetch adapter the async kind uses. What it has to send back in one
// turn of its event loop goes in one message.
import { ServerResponse } from 'node:http';
import type { MessagePort } from 'node:worker_threads';
import type { NodeHandler } from '../app/app-shape.js';
import { loadApp } from '../app/load-app.js';
import { describeError } from '../errors.js';
import { fetchAdapter } from '../http/fetch-adapter.js';
import { sendServerHeader } from '../http/server-header.js';
import { sendEarlyHintsWith } from '../http/write-early-hints.js';
import { countResponseBodyBytes } from '../log/response-body-bytes.js';
import { type ExchangeSettings, ThreadExchange, type ThreadOutbox } from './thread-exchange.js';
import { ABORT, ACK, BODY, CREDIT, END, FAIL, HANDLER_STARTED, HINTS, MessageBytes, REQUEST, type ThreadStarted, type ToMain, type ToThread, handlerClock } from './thread-messages.js';
import type { LaneTask } from './thread-pool.js';
import type { ThreadSocket } from './thread-socket.js';

// A thread runs one lane in its life: these are set once, when it starts.
let port: MessagePort;
let settings: ExchangeSettings;
let handlerMicros: Int32Array;
/**
 * The running average of how long a handler call blocks this thread, in ms
 * (what the pool picks threads by). Each call counts for at most
 * HANDLER_SAMPLE_MAX_MS, so a quick handler the thread was descheduled in (a
 * busy machine) does not make the thread look blocked for long, while an app
 * that blocks every time soon does.
 */
let handlerMs = 0;
const HANDLER_SAMPLE_MAX_MS = 2;
const exchanges = new Map<number, ThreadExchange>();

let pending: Array<ToMain | ThreadExchange> = [];
let flushScheduled = false;

function flush() {
  flushScheduled = false;
  handlingSince = undefined;
  if (pending.length === 0) return;
  let length = 0;
  for (const item of pending) if (item instanceof ThreadExchange) length += item.pendingBytes;
  const bytes = new MessageBytes(length);
  const records: ToMain[] = [];
  for (const item of pending) records.push(item instanceof ThreadExchange ? item.take(bytes) : item);
  pending = [];
  port.postMessage(records, bytes.transferList);
}

function queue(item: ToMain | ThreadExchange) {
  pending.push(item);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

const outbox: ThreadOutbox = {
  touch(exchange) {
    if (exchange.touched) return;
    exchange.touched = true;
    queue(exchange);
  },
  fail: (id, error) => queue([FAIL, id, error]),
  credit: (id, bytes) => queue([CREDIT, id, bytes]),
  hints: (id, fields) => queue([HINTS, id, fields]),
  closed: (exchange) => void exchanges.delete(exchange.id),
};

let handler: NodeHandler | undefined;
let loadError: string | undefined;
const early: ToThread[][] = [];

/**
 * Handlers run in one go before what they wrote is sent: past this, what is
 * left waits for the next turn of the event loop, so a response never waits
 * behind the handlers of requests that came after it (an app that blocks for
 * 10 ms would otherwise hold the first of four answers for 40).
 */
const TURN_MS = 1;
/** Records received and not handled yet, in order. */
let inbox: ToThread[] = [];
let inboxNext = 0;
let turnScheduled = false;
/** When the first handler ran since what handlers wrote was last sent. */
let handlingSince: number | undefined;

function receive(records: ToThread[]) {
  if (inboxNext === inbox.length) {
    inbox = records;
    inboxNext = 0;
  } else for (const record of records) inbox.push(record);
  // Nothing written is waiting to be sent (an app that answers later): nothing is held back by running more.
  if (!flushScheduled) handlingSince = undefined;
  if (!turnScheduled) handleInbox();
}

function nextTurn() {
  turnScheduled = false;
  // What the handlers of the last turn wrote goes first.
  if (flushScheduled) flush();
  handlingSince = undefined;
  handleInbox();
}

function handleInbox() {
  while (inboxNext < inbox.length) {
    const record = inbox[inboxNext];
    if (record[0] === REQUEST) {
      const now = performance.now();
      if (handlingSince === undefined) handlingSince = now;
      else if (now - handlingSince >= TURN_MS) {
        turnScheduled = true;
        setImmediate(nextTurn);
        return;
      }
    }
    inboxNext += 1;
    handle(record);
  }
}

function handle(record: ToThread) {
  switch (record[0]) {
    case REQUEST: {
      const id = record[1];
      if (!handler) {
        queue([FAIL, id, `the app could not be loaded in this thread: ${loadError}`]);
        break;
      }
      const exchange = new ThreadExchange(id, record, outbox, settings);
      exchanges.set(id, exchange);
      const started = performance.now();
      Atomics.store(handlerMicros, HANDLER_STARTED, handlerClock());
      exchange.run(handler);
      Atomics.store(handlerMicros, HANDLER_STARTED, 0);
      handlerMs += (Math.min(performance.now() - started, HANDLER_SAMPLE_MAX_MS) - handlerMs) / 8;
      handlerMicros[0] = Math.round(handlerMs * 1000);
      // node's parser ends a bodiless request right after the app was handed it.
      if (record[11]) exchange.end([]);
      break;
    }
    case BODY:
      exchanges.get(record[1])?.body(record[2]);
      break;
    case END:
      exchanges.get(record[1])?.end(record[2]);
      break;
    case ABORT:
      exchanges.get(record[1])?.abort();
      break;
    case ACK:
      exchanges.get(record[1])?.acknowledged(record[2]);
      break;
  }
}

/** The lane: serves what arrives on `port` until the main thread aborts it (piscina then ends this thread). */
export default function lane(task: LaneTask): Promise<void> {
  port = task.port;
  handlerMicros = task.handlerMicros;
  handlerMs = handlerMicros[0] / 1000;
  const { appModule, cwd, keepAliveMs, serverHeader, draining } = task.data;
  // The Server header, as the main thread's server adds it, and early hints, through a stand-in for that server.
  const server = {};
  if (serverHeader) sendServerHeader(server as never, serverHeader);
  sendEarlyHintsWith(server, (res, fields, callback) => {
    (res.req.socket as unknown as ThreadSocket).earlyHints(fields);
    if (callback) process.nextTick(callback);
  });
  settings = { keepAliveMs, server };

  // Once the worker drains, a response whose head is not out yet is the last on its connection, as in the async kind.
  const writeHeadOfNode = ServerResponse.prototype.writeHead;
  ServerResponse.prototype.writeHead = function writeHead(this: ServerResponse) {
    if (draining[0] === 1) this.shouldKeepAlive = false;
    return writeHeadOfNode.apply(this, arguments as unknown as Parameters<typeof writeHeadOfNode>);
  } as typeof writeHeadOfNode;

  // The body bytes each response sent, for the main thread's access log.
  countResponseBodyBytes();

  port.on('message', (records: ToThread[]) => {
    if (handler === undefined && loadError === undefined) early.push(records);
    else receive(records);
  });

  loadApp(appModule, cwd).then(
    (app) => {
      handler = app.shape === 'node' ? app.handler : (fetchAdapter(app.fetch) as NodeHandler);
      port.postMessage({ loaded: { shape: app.shape, origin: app.origin } } satisfies ThreadStarted);
      for (const records of early.splice(0)) receive(records);
    },
    (error: unknown) => {
      loadError = describeError(error);
      port.postMessage({ failed: loadError } satisfies ThreadStarted);
      for (const records of early.splice(0)) receive(records);
    },
  );
  return new Promise((resolve) => port.once('close', () => resolve()));
}
