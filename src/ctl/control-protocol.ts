// The control socket's messages: msgpack frames (4-byte length + body), as on
// a worker's pipe. A client sends one request; the arbiter answers it, or for
// `events` keeps sending events until the client goes away.
import type { ServerStatus } from '../serve.js';
import type { DirtyStatus } from '../dirty/start-dirty-pool.js';

export const CONTROL_PROTOCOL_VERSION = 1;
/** Requests are a few bytes; anything larger is not a ctl client. */
export const MAX_CONTROL_FRAME_BYTES = 64 * 1024;

export const CONTROL_COMMANDS = ['status', 'reload', 'scale', 'reopen-logs', 'stop', 'upgrade', 'events', 'inspector', 'dirty-scale'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface ControlRequest {
  v: number;
  command: ControlCommand;
  /** scale, dirty-scale: a whole number, or '+N' / '-N'. stop: quick. */
  workers?: number | string;
  quick?: boolean;
}

export interface ArbiterSummary {
  pid: number;
  name: string;
  state: string;
  uptimeSeconds: number;
  generation: number;
  kind: string;
  workers: number;
  listeners: string[];
  /** CPU time the arbiter has used (user + system), in seconds. */
  cpuSeconds: number;
}

export interface WorkerRow {
  id: string;
  pid: number | undefined;
  kind: string;
  state: string;
  /** Bumped by each reload: workers of an older generation are on their way out. */
  generation: number;
  ageSeconds: number;
  served: number;
  inFlight: number;
  lagMs: number;
  rssBytes: number;
  /** CPU time the worker has used (user + system) as of its last heartbeat, in seconds; null before its first. */
  cpuSeconds: number | null;
  ready: boolean;
  retiring: boolean;
}

/** The state shown for a process: one told to leave that still serves its last requests is draining. */
export const shownState = ({ state, retiring }: { state: string; retiring: boolean }) => (retiring && state.startsWith('serving') ? 'draining' : state);

export interface StatusReply {
  arbiter: ArbiterSummary;
  workers: WorkerRow[];
  /** The dirty pool, when the server has one (--dirty-app). */
  dirty?: DirtyStatus;
}

/** A change the events stream reports. */
export type ControlEvent =
  | { at: string; type: 'arbiter'; state: string }
  | { at: string; type: 'worker'; id: string; pid: number | undefined; state: string }
  | { at: string; type: 'exit'; id: string; pid: number | undefined; cause: string; exitCode: number | null; signal: string | null }
  | { at: string; type: 'reloaded'; ok: boolean; reason?: string }
  | { at: string; type: 'command'; command: string }
  /** The dirty pool's chart, and each of its processes (--dirty-app); a process no longer listed is gone. */
  | { at: string; type: 'dirty'; state: string }
  | { at: string; type: 'dirty-process'; id: string; pid: number | undefined; state: string };

export type ControlReply =
  | { v: number; ok: true; result: unknown }
  | { v: number; ok: false; error: { code: string; message: string } }
  | { v: number; event: ControlEvent };

export type { ServerStatus };

/** A request as received, checked; throws with what is wrong. */
export function parseControlRequest(raw: unknown): ControlRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('a request is a map with `v` and `command`');
  const request = raw as Record<string, unknown>;
  if (request.v !== CONTROL_PROTOCOL_VERSION) throw new Error(`protocol version ${String(request.v)} is not ${CONTROL_PROTOCOL_VERSION}: use the corral ctl of this server's version`);
  if (!CONTROL_COMMANDS.includes(request.command as ControlCommand)) throw new Error(`unknown command ${JSON.stringify(request.command)}; commands: ${CONTROL_COMMANDS.join(', ')}`);
  if (request.command === 'dirty-scale' && !/^[+-]?\d+$/.test(String(request.workers))) throw new Error('dirty-scale takes N, +N or -N');
  if (request.command === 'scale' && !/^[+-]?\d+$/.test(String(request.workers))) throw new Error('scale takes N, +N or -N');
  return request as unknown as ControlRequest;
}
