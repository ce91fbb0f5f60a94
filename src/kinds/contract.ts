// The contract every worker kind meets, so the worker machine can invoke any of
// them as its `kind` actor: given the listeners, the app and the settings, serve
// until told to DRAIN, keep the counters current, and report LISTENING/DRAINED/FAILED.
import type { CallbackActorLogic } from 'xstate';
import type { KindCommand } from '../../machines/worker.js';
import type { ListenerDescriptor, WorkerInit } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';

export interface RequestCounters {
  inFlight: number;
  served: number;
}

export interface KindDependencies {
  listeners: readonly ListenerDescriptor[];
  settings: WorkerInit['settings'];
  counters: RequestCounters;
  logger: Logger;
}

/** The actor's input is the loaded app, whatever shape the kind accepts. */
export type KindLogic = CallbackActorLogic<KindCommand, { app: unknown }>;

export interface WorkerKind {
  name: string;
  description: string;
  create(dependencies: KindDependencies): KindLogic;
}
