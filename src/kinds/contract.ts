// The contract every worker kind meets, so the worker machine can invoke any of
// them as its `kind` actor: given the listeners, the app and the settings, serve
// until told to DRAIN, keep the counters current, and report LISTENING/DRAINED/FAILED.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerOptions as TlsServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { CallbackActorLogic } from 'xstate';
import type { KindCommand } from '../../machines/worker.js';
import type { ListenerDescriptor, WorkerInit } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';

export interface RequestCounters {
  inFlight: number;
  served: number;
  /** Requests cut by --request-timeout (kinds that have it). */
  timedOut?: number;
  /** Connections closed unserved because the worker could not afford them (at --worker-connections, out of descriptors). */
  dropped?: number;
}

/**
 * Told of every request a kind serves: access log, metrics, pre/post-request
 * hooks. `finished` runs once per request, when the response is done or cut.
 */
export interface RequestObserver {
  /** Before the app sees the request: the response's headers may still be set. */
  started?(req: IncomingMessage, res: ServerResponse): void;
  finished?(req: IncomingMessage, res: ServerResponse, startedAt: bigint): void;
}

/**
 * Where a kind's connections come from. 'shared': each worker accepts on the
 * inherited listening sockets itself (many connections per worker). 'dispatched':
 * the arbiter accepts, and hands each connection to a worker that said it is
 * idle — for kinds that serve one request at a time and must not take a
 * connection they cannot serve now. 'idle-accept': as 'dispatched', except that
 * on the first listening socket each worker accepts for itself, one connection
 * at a time and only while idle (gunicorn's sync model); the arbiter still
 * dispatches what comes on the other sockets and connections handed back to it.
 */
export type ConnectionSource = 'shared' | 'dispatched' | 'idle-accept';

/** For dispatched kinds: take connections from the arbiter, one per offered slot. */
export interface ConnectionDispatch {
  /**
   * Tell the arbiter this worker can take one more connection: the offer stands until used. For
   * 'idle-accept' kinds, `reserved` (after `onWaiting`): answered at once, with a connection or
   * `onAcceptAgain`; the worker accepts nothing for itself meanwhile.
   */
  offer(options?: { reserved?: boolean }): void;
  /**
   * `take` gets each connection handed over, with the bytes the arbiter read to see its request
   * begin: the kind serves it, those bytes first, and returns true; or returns false (draining or
   * busy) to leave it untouched, and the arbiter gives it to another worker.
   */
  onConnection(take: (socket: Socket, head: Buffer) => boolean): void;
  /** For 'idle-accept' kinds: connections wait at the arbiter; make a reserved offer once idle. */
  onWaiting(waiting: () => void): void;
  /** The arbiter had nothing left for a reserved offer: accept again. */
  onAcceptAgain(resume: () => void): void;
  /**
   * For 'idle-accept' kinds: accept one connection on the first listening socket, then stop
   * accepting (unless asked again before that connection's turn of the event loop ends: then the
   * next one is accepted without listening anew). A failed listen or accept is told to `failed`
   * and tried again a moment later. Returns what stops it sooner.
   */
  acceptOne?(accepted: (socket: Socket) => void, failed: (error: Error) => void): () => void;
  /**
   * For 'idle-accept' kinds: a connection accepted here but not served here (it has said nothing
   * yet, or the worker is draining), with what was read of it, goes to the arbiter; `sent` once it
   * has left this process (a worker that exits sooner would take it along).
   */
  handBack(socket: Socket, head: Buffer, sent: () => void): void;
}

export interface KindDependencies {
  /** APP_MODULE and the directory it resolves from: a kind that runs the app elsewhere (threads) loads it there. */
  appModule: string;
  cwd: string;
  listeners: readonly ListenerDescriptor[];
  settings: WorkerInit['settings'];
  counters: RequestCounters;
  logger: Logger;
  observers: readonly RequestObserver[];
  /** Present for dispatched kinds. */
  dispatch?: ConnectionDispatch;
  /** https server options when --certfile/--keyfile are set (after the sslContext hook); serve HTTPS with them. */
  tls?: TlsServerOptions;
}

/** The actor's input is the loaded app, whatever shape the kind accepts. */
export type KindLogic = CallbackActorLogic<KindCommand, { app: unknown }>;

export interface WorkerKind {
  name: string;
  description: string;
  /** Default 'shared'. */
  connections?: ConnectionSource;
  /** Serves HTTP/2 when --http-protocols has h2 (listening-http.ts does it for a kind built on it). Default true. */
  http2?: boolean;
  create(dependencies: KindDependencies): KindLogic;
}
