// The one message union both ends of a worker's pipe speak, and the check that
// a decoded frame really is one of them (a frame can decode yet be nonsense).
import type { WorkerStats } from '../../machines/worker-handle.js';
import type { Identity } from '../config/identity.js';
import type { Settings } from '../config/schema.js';
import { ProtocolError } from '../errors.js';
import { isRequestDurations } from '../metrics/duration-histogram.js';

export const PROTOCOL_VERSION = 1;
/** The worker's end of its pipe to the arbiter; its listeners follow from the next fd on. */
export const IPC_FD = 3;
/** How the arbiter tells a worker, in its argv, that a sentinel ends it if the arbiter dies (else it watches by itself). */
export const SENTINEL_WATCHES = 'sentinel';

export interface ListenerDescriptor {
  /** File descriptor number in the worker. */
  fd: number;
  /** How users know this listener: `http://127.0.0.1:8000`, `unix:/run/app.sock`. */
  url: string;
}

/** Everything a worker needs to boot; the arbiter sends it first. */
export interface WorkerInit {
  type: 'init';
  version: number;
  workerId: string;
  appModule: string;
  cwd: string;
  kind: string;
  listeners: ListenerDescriptor[];
  /** The resolved settings, as the arbiter has them. */
  settings: Settings;
  /** The config file the arbiter loaded, for the hooks that run in workers. */
  configFile: string | undefined;
  /** --user/--group, resolved: the worker switches to them before loading the app. */
  identity?: Identity;
}

export type ArbiterToWorker = WorkerInit | { type: 'drain' } | { type: 'stop' };

export type WorkerToArbiter =
  | { type: 'booted' }
  | { type: 'ready' }
  | ({ type: 'heartbeat' } & WorkerStats)
  | { type: 'bootFailed'; code: number; message: string }
  /** Replace me (rolling: the replacement is ready before I drain). */
  | { type: 'recycle'; reason: string };

export type Direction = 'toWorker' | 'toArbiter';

const knownTypes: Record<Direction, ReadonlySet<string>> = {
  toWorker: new Set(['init', 'drain', 'stop']),
  toArbiter: new Set(['booted', 'ready', 'heartbeat', 'bootFailed', 'recycle']),
};

const isNumber = (value: unknown) => typeof value === 'number' && Number.isFinite(value);
const isResponseClasses = (value: unknown) => typeof value === 'object' && value !== null && isNumber((value as Record<string, unknown>).client) && isNumber((value as Record<string, unknown>).server);

/** Throws ProtocolError unless `value` is a message that may travel in `direction`. */
export function validateMessage(direction: 'toArbiter', value: unknown): WorkerToArbiter;
export function validateMessage(direction: 'toWorker', value: unknown): ArbiterToWorker;
export function validateMessage(direction: Direction, value: unknown): WorkerToArbiter | ArbiterToWorker {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof value !== 'object' || value === null || typeof type !== 'string' || !knownTypes[direction].has(type)) {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', `unexpected message ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  const message = value as Record<string, unknown>;
  if (type === 'heartbeat' && !['inFlight', 'served', 'lagMs', 'rss'].every((key) => isNumber(message[key]))) {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', 'heartbeat without its counters');
  }
  if (type === 'heartbeat' && message.timedOut !== undefined && !isNumber(message.timedOut)) {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', 'heartbeat with a malformed timeout count');
  }
  if (type === 'heartbeat' && message.durations !== undefined && !isRequestDurations(message.durations)) {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', 'heartbeat with a malformed duration histogram');
  }
  if (type === 'heartbeat' && message.dropped !== undefined && !isNumber(message.dropped)) {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', 'heartbeat with a malformed count of dropped connections');
  }
  if (type === 'heartbeat' && message.cpuMicros !== undefined && !isNumber(message.cpuMicros)) {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', 'heartbeat with a malformed CPU time');
  }
  if (type === 'heartbeat' && message.responses !== undefined && !isResponseClasses(message.responses)) {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', 'heartbeat with malformed response counts');
  }
  if (type === 'recycle' && typeof message.reason !== 'string') {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', 'recycle without a reason');
  }
  if (type === 'bootFailed' && !(isNumber(message.code) && typeof message.message === 'string')) {
    throw new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', 'bootFailed without code and message');
  }
  return value as WorkerToArbiter | ArbiterToWorker;
}
