// Entry point of a worker process: waits for its `init` message on the IPC
// pipe (fd 3), then runs the worker statechart until it is dead.
import net from 'node:net';
import { openWorkerSide } from '../ipc/channel.js';
import { createLogger } from '../log/logger.js';
import { IPC_FD } from '../arbiter/worker-process.js';
import { runWorker } from './run-worker.js';

const pipe = new net.Socket({ fd: IPC_FD, readable: true, writable: true });
let control: ReturnType<typeof runWorker> | undefined;
const bootLogger = createLogger('info');

const channel = openWorkerSide(pipe, {
  message(message) {
    if (message.type === 'init') {
      if (!control) control = runWorker(message, channel, pipe);
    } else if (message.type === 'drain') control?.send({ type: 'DRAIN' });
    else if (message.type === 'stop') control?.send({ type: 'STOP' });
  },
  protocolError(error) {
    bootLogger.error(`The arbiter's messages cannot be read (${error.message}); exiting.`);
    process.exit(1);
  },
  close() {
    // The arbiter is gone: nobody supervises us any more, so stop serving.
    if (control) control.send({ type: 'ARBITER.GONE' });
    else process.exit(0);
  },
});

process.on('SIGTERM', () => control?.send({ type: 'DRAIN' }));
process.on('SIGINT', () => control?.send({ type: 'STOP' }));
process.on('SIGQUIT', () => control?.send({ type: 'STOP' }));
// Sent by the arbiter when we went silent: if the loop can still run this, say so and go.
process.on('SIGABRT', () => {
  bootLogger.critical(`Worker aborted (pid: ${process.pid}): no heartbeat within the timeout`);
  process.exit(1);
});
