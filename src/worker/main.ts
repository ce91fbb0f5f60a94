// Entry point of a worker process: waits for its `init` message on the IPC
// pipe (fd 3), then runs the worker statechart until it is dead.
import net from 'node:net';
import { openWorkerSide } from '../ipc/channel.js';
import { IPC_FD, SENTINEL_WATCHES } from '../ipc/protocol.js';
import { createLogger } from '../log/logger.js';
import { endProcessGroup } from './process-group.js';
import { type RunningWorker, runWorker } from './run-worker.js';

// The arbiter passes its pid: one that died before this line ran has already left us reparented.
const arbiterPid = Number(process.argv[2]) || process.ppid;
if (process.ppid !== arbiterPid) process.exit(0);
// The arbiter's sentinel ends this worker if the arbiter dies; where it has none, a thread of ours watches.
if (process.argv[3] !== SENTINEL_WATCHES) void import('./orphan-watchdog.js').then(({ watchForOrphaning }) => watchForOrphaning(arbiterPid, createLogger({ level: 'warning' })));
let arbiterGone = false;
// With the arbiter alive it ends what the app left in our group once we exit; without it, we do.
process.on('exit', () => {
  if (arbiterGone) endProcessGroup();
});

const pipe = new net.Socket({ fd: IPC_FD, readable: true, writable: true });
// Set once init arrives; events and signals wait for the worker to have opened its logs.
let worker: Promise<RunningWorker> | undefined;

const channel = openWorkerSide(pipe, {
  message(message) {
    if (message.type === 'init') {
      if (!worker) worker = runWorker(message, channel, pipe);
    } else if (message.type === 'drain') void worker?.then((running) => running.send({ type: 'DRAIN' }));
    else if (message.type === 'stop') void worker?.then((running) => running.send({ type: 'STOP' }));
  },
  protocolError(error) {
    const logger = createLogger({ level: 'error' });
    logger.error(`The arbiter's messages cannot be read (${error.message}); exiting.`);
    void logger.drain(1000).then(() => process.exit(1));
  },
  close() {
    // The arbiter is gone: nobody supervises us any more, so stop serving.
    arbiterGone = true;
    if (worker) void worker.then((running) => running.send({ type: 'ARBITER.GONE' }));
    else process.exit(0);
  },
});

// Before init arrives, TERM/INT/QUIT simply end the process.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) {
  process.on(signal, () => (worker ? void worker.then((running) => running.signal(signal)) : process.exit(0)));
}
process.on('SIGUSR1', () => void worker?.then((running) => running.signal('SIGUSR1')));
process.on('SIGABRT', () => (worker ? void worker.then((running) => running.signal('SIGABRT')) : process.exit(1)));
