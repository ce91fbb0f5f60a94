// Public API for embedding corral's actors in your own supervisor.
export { arbiterMachine, describeExit, type ArbiterInput, type ArbiterOutput, type ArbiterEvent } from '../machines/arbiter.js';
export { workerMachine, type WorkerInput, type WorkerOutput, type WorkerEvent, type KindCommand, type KindReport } from '../machines/worker.js';
export { workerHandleMachine, type WorkerExit, type WorkerHandleInput, type WorkerStats } from '../machines/worker-handle.js';
export { settingsSchema, type Settings, type SettingSpec } from './config/schema.js';
export { encodeFrame, FrameDecoder } from './ipc/frame-codec.js';
export type { ArbiterToWorker, WorkerToArbiter, WorkerInit } from './ipc/protocol.js';
export type { WorkerKind, KindDependencies, ConnectionSource, RequestObserver } from './kinds/contract.js';
// Kind authors build their actor with this (it is the same xstate corral runs).
export { fromCallback } from 'xstate';
// A kind's input.app is a RecognisedApp; this turns any shape into one guarded node request listener.
export { requestListenerFor } from './http/request-listener.js';
export type { RecognisedApp, NodeHandler, FetchHandler, FetchContext } from './app/app-shape.js';
export { CorralError } from './errors.js';
