// corralActor: serve() as XState actor logic, for a supervisor that is itself a
// statechart. Spawn it with the serve() options as input; send it SCALE, RELOAD
// and STOP; it sends its parent corral.* events. Stopping the actor (its parent
// stops, or stopChild) stops corral at once, so no worker outlives it.
import { type AnyEventObject, fromCallback } from 'xstate';
import type { WorkerExit } from '../machines/worker-handle.js';
import { type CorralServer, type ServeOptions, type ServerStatus, serve } from './serve.js';

export type CorralActorCommand = { type: 'SCALE'; workers: number } | { type: 'RELOAD' } | { type: 'STOP'; graceful?: boolean };

export type CorralActorEvent =
  | { type: 'corral.ready'; urls: string[] }
  | { type: 'corral.state'; status: ServerStatus }
  | { type: 'corral.workerExit'; exit: WorkerExit }
  | { type: 'corral.reloaded'; ok: boolean; reason?: string }
  /** A start that failed (bad options, or the app could not boot), or a command it refused. */
  | { type: 'corral.error'; error: Error }
  /** corral has stopped and cleaned up: no worker is left. */
  | { type: 'corral.exit'; code: number };

export const corralActor = fromCallback<CorralActorCommand, ServeOptions>(({ input, sendBack, receive }) => {
  const tell = (event: CorralActorEvent) => sendBack(event as AnyEventObject);
  let server: CorralServer | undefined;
  let released = false;
  const pending: CorralActorCommand[] = [];

  const run = (command: CorralActorCommand) => {
    if (!server) return void pending.push(command);
    try {
      if (command.type === 'SCALE') server.scale(command.workers);
      else if (command.type === 'RELOAD') server.reload().catch((error: Error) => tell({ type: 'corral.error', error }));
      else void server.stop({ graceful: command.graceful ?? true });
    } catch (error) {
      tell({ type: 'corral.error', error: error as Error });
    }
  };
  receive(run);

  serve(input).then(
    (started) => {
      server = started;
      server.on('state', (status) => tell({ type: 'corral.state', status }));
      server.on('workerExit', (exit) => tell({ type: 'corral.workerExit', exit }));
      server.on('reloaded', (outcome) => tell({ type: 'corral.reloaded', ...outcome }));
      server.ready.then((urls) => tell({ type: 'corral.ready', urls }), (error: Error) => tell({ type: 'corral.error', error }));
      void server.exited.then((code) => {
        if (!released) tell({ type: 'corral.exit', code });
      });
      if (released) void server.stop({ graceful: false });
      else pending.splice(0).forEach(run);
    },
    (error: Error) => {
      tell({ type: 'corral.error', error });
      tell({ type: 'corral.exit', code: 1 });
    },
  );

  return () => {
    released = true;
    void server?.stop({ graceful: false });
  };
});
