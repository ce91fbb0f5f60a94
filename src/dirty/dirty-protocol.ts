// What travels for a dirty call: app code (in any worker, any thread) ↔ the
// arbiter's dirty router over a unix socket, and the router ↔ a dirty process
// over its pipe. Both are msgpack frames (4-byte length + body). A call's
// arguments and its result travel pre-encoded (`bin`), so the router forwards
// them without decoding the user's data, and the size cap is one length check.
import { Packr } from 'msgpackr/pack';
import { Unpackr } from 'msgpackr/unpack';
import type { Identity } from '../config/identity.js';
import type { DirtyErrorCode } from '../errors.js';

/** Where app code finds the router: set in the arbiter's environment, so every worker (and thread) inherits it. */
export const DIRTY_SOCKET_ENV = 'CORRAL_DIRTY_SOCKET';
/** The largest encoded payload, as the arbiter has it; app code reads it from the environment too. */
export const DIRTY_MAX_MESSAGE_ENV = 'CORRAL_DIRTY_MAX_MESSAGE';
/** A frame holds the payload plus a few fields around it. */
export const FRAME_OVERHEAD_BYTES = 64 * 1024;

// The user's data: structured values, Maps and Sets, dates, binary (Buffer/Uint8Array) cross as they are.
const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: true });
export const encodePayload = (value: unknown): Buffer => packr.pack(value);
export const decodePayload = (bytes: Uint8Array): unknown => unpackr.unpack(bytes);

/**
 * A stream runs at most this many chunks ahead of its reader: the dirty process waits for an
 * `ack` (one per chunk the app has taken) before it sends more, so a slow reader holds no pile of chunks.
 */
export const STREAM_WINDOW = 8;

/**
 * app → router, passed on to the dirty process: `ack`, a chunk of stream `id` was taken;
 * `cancel`, its reader stopped (or went away): the generator is closed and the process freed.
 */
export interface StreamAck {
  t: 'ack' | 'cancel';
  id: number;
}

/** app → router. `timeoutMs` 0: no limit; undefined: the server's --dirty-timeout. */
export interface CallRequest {
  t: 'call';
  id: number;
  name: string;
  args: Uint8Array;
  stream: boolean;
  timeoutMs?: number;
}

/** router → app, and dirty process → router (with the router's own call id). */
export type CallReply =
  | { t: 'result'; id: number; value: Uint8Array }
  | { t: 'chunk'; id: number; value: Uint8Array }
  | { t: 'end'; id: number }
  | { t: 'error'; id: number; code: DirtyErrorCode; message: string };

/** What the arbiter tells a dirty process first, then each call. */
export type RouterToDirty =
  | { t: 'init'; module: string; cwd: string; id: string; identity?: Identity; initgroups?: boolean }
  | { t: 'call'; id: number; name: string; args: Uint8Array; stream: boolean }
  | StreamAck;

export type DirtyToRouter = { t: 'ready' } | { t: 'bootFailed'; message: string } | CallReply;

const isBytes = (value: unknown) => value instanceof Uint8Array;
const isId = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value);

/** undefined unless `raw` is a call request or a stream's ack. */
export function asCallRequest(raw: unknown): CallRequest | StreamAck | undefined {
  const ack = raw as Partial<StreamAck> | null;
  if (ack?.t === 'ack' || ack?.t === 'cancel') return isId(ack.id) ? { t: ack.t, id: ack.id! } : undefined;
  const message = raw as Partial<CallRequest> | null;
  if (!message || message.t !== 'call' || !isId(message.id) || typeof message.name !== 'string' || !isBytes(message.args)) return undefined;
  if (message.timeoutMs !== undefined && !(typeof message.timeoutMs === 'number' && message.timeoutMs >= 0)) return undefined;
  return { ...message, stream: message.stream === true } as CallRequest;
}

/** undefined unless `raw` is something a dirty process may say. */
export function asDirtyMessage(raw: unknown): DirtyToRouter | undefined {
  const message = raw as Record<string, unknown> | null;
  if (!message || typeof message.t !== 'string') return undefined;
  switch (message.t) {
    case 'ready':
      return { t: 'ready' };
    case 'bootFailed':
      return typeof message.message === 'string' ? { t: 'bootFailed', message: message.message } : undefined;
    case 'result':
    case 'chunk':
      return isId(message.id) && isBytes(message.value) ? (message as unknown as CallReply) : undefined;
    case 'end':
      return isId(message.id) ? { t: 'end', id: message.id as number } : undefined;
    case 'error':
      return isId(message.id) && typeof message.code === 'string' && typeof message.message === 'string' ? (message as unknown as CallReply) : undefined;
    default:
      return undefined;
  }
}

/** undefined unless `raw` is something the router may answer. */
export const asCallReply = (raw: unknown): CallReply | undefined => {
  const message = asDirtyMessage(raw);
  return message && message.t !== 'ready' && message.t !== 'bootFailed' ? message : undefined;
};
