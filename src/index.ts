// Public API for embedding corral: serve() runs it from a script; the machines,
// kinds, IPC codec and settings schema are for a supervisor of your own. See docs/api.md.
export { serve, type ServeOptions, type CorralServer, type ServerStatus, type WorkerStatus, type ServerEvents } from './serve.js';
export { corralActor, type CorralActorCommand, type CorralActorEvent } from './corral-actor.js';
export { startWorker, type WorkerOptions, type InProcessWorker, type InProcessWorkerEvents } from './worker/in-process-worker.js';
export { arbiterMachine, describeExit, type ArbiterInput, type ArbiterOutput, type ArbiterEvent } from '../machines/arbiter.js';
export { workerMachine, guardEffects, type WorkerInput, type WorkerOutput, type WorkerEvent, type KindCommand, type KindReport } from '../machines/worker.js';
export { workerHandleMachine, type WorkerExit, type WorkerHandleInput, type WorkerStats } from '../machines/worker-handle.js';
export { settingsSchema, type Settings, type SettingSpec } from './config/schema.js';
// For config files written in TypeScript (or checked by it): defineConfig() types the export, hooks and all.
export { defineConfig, type CorralConfig, type ConfigSettings } from './config/define-config.js';
export type { Hooks, HookName, HookWorker, SpawningWorker, ExitedWorker } from './config/hooks.js';
export { validateSettings } from './config/resolve-settings.js';
// The real workerProcess actor of the worker handle: spawns a worker process; for an arbiter with effects of your own.
export { workerProcessLogic, type WorkerProcessOptions } from './arbiter/worker-process.js';
export { openArbiterSide, openWorkerSide, type Channel } from './ipc/channel.js';
export { loadKind, kindNames } from './kinds/registry.js';
export { encodeFrame, FrameDecoder } from './ipc/frame-codec.js';
export type { ArbiterToWorker, WorkerToArbiter, WorkerInit } from './ipc/protocol.js';
export type { WorkerKind, KindDependencies, ConnectionSource, RequestObserver } from './kinds/contract.js';
// Kind authors build their actor with this (it is the same xstate corral runs).
export { fromCallback } from 'xstate';
// A kind's input.app is a RecognisedApp; this turns any shape into one guarded node request listener.
export { requestListenerFor } from './http/request-listener.js';
export { createHttpServer, type HttpServerOptions } from './http/http-server.js';
export type { RecognisedApp, NodeHandler, FetchHandler, FetchContext, FetchClient, EarlyHints, EarlyHintValue } from './app/app-shape.js';
export { CorralError, type CorralErrorCode } from './errors.js';
export { InvalidEarlyHints, EarlyHintsTooLate } from './http/early-hints.js';
// App code's way to the dirty pool (--dirty-app): dirty.execute('name', ...args), dirty.stream(...).
export { dirty, type DirtyClient, type DirtyCallOptions } from './dirty/dirty-client.js';
export { DirtyError, type DirtyErrorCode } from './errors.js';
export { dirtyPoolMachine, type DirtyPoolInput, type DirtyPoolEvent } from '../machines/dirty-pool.js';
export { dirtyProcessMachine, type DirtyExit, type DirtyProcessInput } from '../machines/dirty-process.js';
