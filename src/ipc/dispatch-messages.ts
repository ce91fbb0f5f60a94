// What the arbiter and a dispatched worker (the sync kind) say to each other on
// node's fd-passing channel, the only channel that can carry a socket. Each
// connection has an id, so the arbiter knows which ones a worker has taken: one
// not yet taken when that worker declines it or dies goes to another worker.

/** arbiter → worker, with the socket as the message's handle. */
export interface HandedConnection {
  type: 'corral:connection';
  id: number;
  /** The bytes the arbiter read to see the request begin (base64); they come before anything still on the socket. */
  head: string;
}

export type DispatchFromWorker =
  /** One more connection can be served now. */
  | { type: 'corral:idle' }
  /** The worker serves this connection: the arbiter closes its copy. */
  | { type: 'corral:took'; id: number }
  /** The worker is leaving and did not read from it: another worker gets it. */
  | { type: 'corral:declined'; id: number };

export const isHandedConnection = (message: unknown): message is HandedConnection =>
  (message as HandedConnection | null)?.type === 'corral:connection' &&
  typeof (message as HandedConnection).id === 'number' &&
  typeof (message as HandedConnection).head === 'string';
