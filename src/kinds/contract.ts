// The contract every worker kind meets, so the worker machine can invoke any of
// them as its `kind` actor: given the listeners, the app and the settings, serve
// until told to DRAIN, keep the counters current, and report LISTENING/DRAINED/FAILED.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallbackActorLogic } from 'xstate';
import type { KindCommand } from '../../machines/worker.js';
import type { ListenerDescriptor, WorkerInit } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';

export interface RequestCounters {
  inFlight: number;
  served: number;
}

/**
 * Told of every request a kind serves: access log, metrics, pre/post-request
 * hooks. `finished` runs once per request, when the response is done or cut.
 */
export interface RequestObserver {
  started?(req: IncomingMessage): void;
  finished?(req: IncomingMessage, res: ServerResponse, startedAt: bigint): void;
}

export interface KindDependencies {
  listeners: readonly ListenerDescriptor[];
  settings: WorkerInit['settings'];
  counters: RequestCounters;
  logger: Logger;
  observers: readonly RequestObserver[];
}

/** The actor's input is the loaded app, whatever shape the kind accepts. */
export type KindLogic = CallbackActorLogic<KindCommand, { app: unknown }>;

export interface WorkerKind {
  name: string;
  description: string;
  create(dependencies: KindDependencies): KindLogic;
}
