// What the arbiter and a dispatched worker (the sync kind) say to each other on
// node's fd-passing channel, the only channel that can carry a socket. Each
// connection has an id, so the arbiter knows which ones a worker has taken: one
// not yet taken when that worker declines it or dies goes to another worker.

/**
 * Where an 'idle-accept' worker finds the first listening socket: its stdin. libuv never
 * closes descriptors 0–2 when it closes a handle, so a worker can stop listening (close its
 * handle) while it serves and listen on the same socket again when idle; node has no other
 * way to stop a listening handle short of closing the descriptor.
 */
export const IDLE_ACCEPT_FD = 0;

/** arbiter → worker, with the socket as the message's handle. */
export interface HandedConnection {
  type: 'corral:connection';
  id: number;
  /** The bytes the arbiter read to see the request begin (base64); they come before anything still on the socket. */
  head: string;
}

export type DispatchToWorker =
  | HandedConnection
  /** To 'idle-accept' workers: connections wait here for an idle worker; offer (reserved) when idle. */
  | { type: 'corral:waiting' }
  /** Answer to a reserved offer when no connection is left: accept again. */
  | { type: 'corral:accept-again' };

export type DispatchFromWorker =
  /** One more connection can be served now. `reserved`: answered at once, with a connection or 'corral:accept-again'; until then the worker accepts nothing itself. Else the offer stands until used. */
  | { type: 'corral:idle'; reserved?: boolean }
  /** The worker serves this connection: the arbiter closes its copy. */
  | { type: 'corral:took'; id: number }
  /** The worker is leaving, or busy, and did not read from it: another worker gets it. */
  | { type: 'corral:declined'; id: number }
  /** With the raw handle of a connection the worker accepted and does not serve; `head` (base64) is what it read of it. */
  | { type: 'corral:handed-back'; head: string };

export const isHandedConnection = (message: unknown): message is HandedConnection =>
  (message as HandedConnection | null)?.type === 'corral:connection' &&
  typeof (message as HandedConnection).id === 'number' &&
  typeof (message as HandedConnection).head === 'string';
