// Server hooks: functions in the config file, run at the same moments and in the
// same processes as gunicorn's. Any hook may be async; one that throws, or is
// still running at its deadline (hook-deadline.ts), is logged with its name and
// never takes the server down.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerOptions as TlsServerOptions } from 'node:https';
import type { Settings } from './schema.js';
export const hookSpecs = [
  { name: 'onStarting', gunicorn: 'on_starting', process: 'arbiter', args: '(settings)', when: 'before the arbiter binds its sockets' },
  { name: 'onReload', gunicorn: 'on_reload', process: 'arbiter', args: '(settings)', when: 'when a reload (HUP) begins' },
  { name: 'whenReady', gunicorn: 'when_ready', process: 'arbiter', args: '(settings)', when: 'once every worker of the first generation is ready' },
  { name: 'preFork', gunicorn: 'pre_fork', process: 'arbiter', args: '(worker)', when: 'just before a worker process is spawned' },
  { name: 'postFork', gunicorn: 'post_fork', process: 'worker', args: '(worker)', when: 'in a new worker, before it loads the app' },
  { name: 'postWorkerInit', gunicorn: 'post_worker_init', process: 'worker', args: '(worker)', when: 'in a worker, after the app is loaded' },
  { name: 'workerInt', gunicorn: 'worker_int', process: 'worker', args: '(worker)', when: 'in a worker told to quit quickly (INT or QUIT)' },
  { name: 'workerAbort', gunicorn: 'worker_abort', process: 'worker', args: '(worker)', when: 'in a worker sent SIGABRT for missing the timeout, if its loop can still run' },
  { name: 'preExec', gunicorn: 'pre_exec', process: 'arbiter', args: '(settings)', when: 'before a new arbiter is started for an upgrade (USR2)' },
  { name: 'preRequest', gunicorn: 'pre_request', process: 'worker', args: '(worker, req)', when: 'in a worker, before the app sees a request' },
  { name: 'postRequest', gunicorn: 'post_request', process: 'worker', args: '(worker, req, res)', when: 'in a worker, after a response is finished' },
  { name: 'childExit', gunicorn: 'child_exit', process: 'arbiter', args: '(worker)', when: 'in the arbiter, after a worker process exited' },
  { name: 'workerExit', gunicorn: 'worker_exit', process: 'worker', args: '(worker)', when: 'in a worker, as it exits' },
  { name: 'nworkersChanged', gunicorn: 'nworkers_changed', process: 'arbiter', args: '(newValue, oldValue)', when: 'in the arbiter, when the number of workers changes' },
  { name: 'sslContext', gunicorn: 'ssl_context', process: 'worker', args: '(worker, options)', when: 'in a worker, before it serves HTTPS: change the https server options (cert, key, ciphers, minVersion …) in place or return new ones' },
  { name: 'onExit', gunicorn: 'on_exit', process: 'arbiter', args: '(settings)', when: 'just before the arbiter exits' },
] as const;

export type HookName = (typeof hookSpecs)[number]['name'];

/** What the hooks run in a worker receive as `worker`. */
export interface HookWorker {
  id: string;
  pid: number;
  settings: Settings;
}

/** What preFork receives: the worker about to be spawned. */
export interface SpawningWorker {
  id: string;
}

/** What childExit receives: the worker process that exited. */
export interface ExitedWorker {
  id: string;
  /** Absent when the process could not be spawned. */
  pid: number | undefined;
  exitCode: number | null;
  signal: string | null;
}

/** A hook's result: any hook may be async; only sslContext's value is used. */
type HookResult = unknown;

/** The hooks of a config file (or of serve()), each with the arguments corral passes. */
export interface Hooks {
  onStarting?: (settings: Settings) => HookResult;
  onReload?: (settings: Settings) => HookResult;
  whenReady?: (settings: Settings) => HookResult;
  preFork?: (worker: SpawningWorker) => HookResult;
  postFork?: (worker: HookWorker) => HookResult;
  postWorkerInit?: (worker: HookWorker) => HookResult;
  workerInt?: (worker: HookWorker) => HookResult;
  workerAbort?: (worker: HookWorker) => HookResult;
  preExec?: (settings: Settings) => HookResult;
  preRequest?: (worker: HookWorker, req: IncomingMessage) => HookResult;
  postRequest?: (worker: HookWorker, req: IncomingMessage, res: ServerResponse) => HookResult;
  childExit?: (worker: ExitedWorker) => HookResult;
  workerExit?: (worker: HookWorker) => HookResult;
  nworkersChanged?: (newValue: number, oldValue: number) => HookResult;
  /** Changes `options` in place, or returns (or resolves to) the options to serve with instead. */
  sslContext?: (worker: HookWorker, options: TlsServerOptions) => TlsServerOptions | void | Promise<TlsServerOptions | void>;
  onExit?: (settings: Settings) => HookResult;
}

// Keeps the table and the interface naming the same hooks.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const hooksMatchSpecs: Same<keyof Hooks, HookName> = true;
void hooksMatchSpecs;

export const hookNames: ReadonlySet<string> = new Set(hookSpecs.map((hook) => hook.name));
