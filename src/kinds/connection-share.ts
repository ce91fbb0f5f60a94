// Keep-alive connections stay with the worker that accepted them, and which
// worker accepts is the scheduler's pick: a client that opens its pool at once
// (wrk -c 50, a proxy's upstream pool) can leave one worker holding most of it
// for as long as the client lives. The arbiter knows every worker's count from
// their heartbeats and answers each with the pool's fair share (rounded up); a
// worker that holds more ends a connection after its next response (Connection:
// close), and its client reconnects, to a sibling most likely, as the busiest
// worker is the last to get to accept. No spare is kept over the share: with
// one, the others could sit a connection over it each and leave one worker that
// many short. Only the excess is ended, and a connection only after its second
// response, so a client that sent one request and keeps its connection idle is
// left alone; idle connections get no response and are never ended, so a worker
// over its share with idle ones ends only the active ones that come to it, until
// they have all settled on its siblings.

import type { Socket } from 'node:net';
import type { RequestCounters } from './contract.js';

// Set on a connection whose response went out while the worker was over its share.
const answeredOnce = Symbol('corral.answeredOnce');
type MarkedSocket = Socket & { [answeredOnce]?: true };

export class ConnectionShare {
  /** Until the arbiter says, nothing to share. */
  private share = Infinity;
  /** Connections told to close that have not closed yet. */
  private leaving = 0;

  constructor(private readonly counters: RequestCounters) {
    counters.connections = 0;
  }

  /** A connection was accepted: counted until it closes. */
  readonly accepted = (socket: Socket) => {
    this.counters.connections! += 1;
    socket.once('close', this.closed);
  };

  private readonly closed = () => {
    this.counters.connections! -= 1;
  };

  private readonly left = () => {
    this.leaving -= 1;
  };

  /** The pool's fair share of connections per worker, from the arbiter. */
  told(share: number) {
    this.share = share;
  }

  /** Whether the response about to go out on `socket`, a keep-alive HTTP/1.1 connection, should be its last. */
  endsConnection(socket: Socket): boolean {
    if (this.counters.connections! - this.leaving <= this.share) return false;
    const marked = socket as MarkedSocket;
    if (!marked[answeredOnce]) {
      marked[answeredOnce] = true;
      return false;
    }
    this.leaving += 1;
    socket.once('close', this.left);
    return true;
  }
}
