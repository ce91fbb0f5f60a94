// A stand-in for the `workerProcess` actor: records the signals each worker is
// sent and lets a test play the process's part (spawn, messages, exit).
import { fromCallback } from 'xstate';
import type { WorkerHandleEvent, WorkerProcessCommand } from '../../machines/worker-handle.js';

export interface FakeProcess {
  id: string;
  pid: number;
  signals: string[];
  emit(event: WorkerHandleEvent): void;
  /** The process exits; `signal` if it was killed by one. */
  exit(exitCode: number | null, signal?: string): void;
}

type FakeProcessCallback = Parameters<typeof fromCallback<WorkerProcessCommand, { id: string }>>[0];

export function fakeProcesses() {
  const all: FakeProcess[] = [];
  let nextPid = 1000;
  const play: FakeProcessCallback = ({ input, sendBack, receive }) => {
    const process: FakeProcess = {
      id: input.id,
      pid: nextPid++,
      signals: [],
      emit: (event) => sendBack(event),
      exit: (exitCode, signal) => sendBack({ type: 'PROCESS.EXITED', exitCode, signal: signal ?? null }),
    };
    all.push(process);
    sendBack({ type: 'PROCESS.SPAWNED', pid: process.pid });
    receive((command) => process.signals.push(command.signal));
  };
  return {
    logic: fromCallback<WorkerProcessCommand, { id: string }>(play),
    /** The same, for a machine provided once and shared by several runs. */
    play,
    all,
    /** Processes not yet told to exit by the test. */
    byId: (id: string) => all.find((process) => process.id === id)!,
  };
}

export const settle = () => new Promise((resolve) => setImmediate(resolve));
