// How connections reach the workers: one interface, two strategies (node's
// SharedHandle / RoundRobinHandle), chosen here and nowhere else, from what the
// kind declares (its `connections`: 'shared' or 'dispatched').
// - shared accept: every worker accepts on the listening sockets it inherits;
// - dispatch: the arbiter accepts and hands each connection to an idle worker
//   (see connection-dispatcher.ts); for 'idle-accept' kinds, idle workers accept
//   on the first listening socket themselves (inherited as their stdin, see
//   IDLE_ACCEPT_FD) and the arbiter dispatches the rest.
// The strategy is fixed when the listeners are bound. Dispatch takes the arbiter
// accepting on the listening sockets, which node can only stop by closing them
// (and the arbiter cannot get a second descriptor of a socket to keep for new
// workers), so a reload that would switch strategies is refused with a reason.
import type { ChildProcess } from 'node:child_process';
import { CorralError } from '../errors.js';
import { kindConnections } from '../kinds/registry.js';
import type { DispatcherOptions, RefusedConnections } from './connection-dispatcher.js';

export interface ConnectionStrategy {
  readonly name: 'shared accept' | 'dispatch';
  /** What a worker process needs beyond its pipe and the listeners: node's fd channel for dispatch. */
  readonly workerStdio: readonly 'ipc'[];
  /** A worker's stdin: the listening socket idle workers accept on, or nothing. */
  readonly workerStdin: number | 'ignore';
  /** A worker was spawned (with workerStdio). */
  attach(workerId: string, child: ChildProcess): void;
  /** The worker is leaving: it gets no more connections. */
  retire(workerId: string): void;
  /** Connections the arbiter closed unserved, by why; undefined where it accepts none (shared accept). */
  refused(): RefusedConnections | undefined;
  /** The server stops accepting; `answerBacklog`: what waits on the sockets is answered 503 where the arbiter can. */
  close(options?: { answerBacklog?: boolean }): void;
}

const sharedAccept: ConnectionStrategy = {
  name: 'shared accept',
  workerStdio: [],
  workerStdin: 'ignore',
  attach() {},
  retire() {},
  refused: () => undefined,
  close() {},
};

/** The strategy for the worker class `kindName`, accepting on the bound listeners if it must. */
export async function connectionStrategyFor(kindName: string, cwd: string, options: DispatcherOptions): Promise<ConnectionStrategy> {
  const source = await kindConnections(kindName, cwd);
  if (source === 'shared') return sharedAccept;
  // Loaded only for a dispatched kind: a shared-accept arbiter never accepts a connection itself.
  const { startDispatcher } = await import('./connection-dispatcher.js');
  const acceptedByWorkers = source === 'idle-accept' ? options.listeners[0] : undefined;
  return {
    name: 'dispatch',
    workerStdio: ['ipc'],
    workerStdin: acceptedByWorkers?.fd ?? 'ignore',
    ...startDispatcher({ ...options, acceptedByWorkers }),
  };
}

/** Throws, naming what to do, when a reload from `fromKind` to `toKind` would change how connections reach workers. */
export async function checkSameConnectionStrategy(fromKind: string, toKind: string, cwd: string): Promise<void> {
  if (fromKind === toKind) return;
  const [from, to] = await Promise.all([kindConnections(fromKind, cwd), kindConnections(toKind, cwd)]);
  if (from === to) return;
  throw new CorralError(
    'CORRAL_ERR_CONFIG',
    `changing the worker class from ${fromKind} to ${toKind} changes how connections reach workers; restart corral to apply it`,
  );
}
