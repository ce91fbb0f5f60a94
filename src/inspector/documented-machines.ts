// The statecharts that are corral's lifecycle documentation, and the pages drawn from them.
import type { AnyStateMachine } from 'xstate';
import { arbiterMachine } from '../../machines/arbiter.js';
import { workerHandleMachine } from '../../machines/worker-handle.js';
import { workerMachine } from '../../machines/worker.js';
import { successionMachine } from '../../machines/succession.js';
import { dirtyPoolMachine } from '../../machines/dirty-pool.js';
import { dirtyProcessMachine } from '../../machines/dirty-process.js';
import { eventsHandledInPlace, statechartToMermaid } from './statechart-to-mermaid.js';

export const documentedMachines: { file: string; title: string; about: string; machine: AnyStateMachine }[] = [
  {
    file: 'arbiter.md',
    title: 'Arbiter',
    about: 'The arbiter process: binds the listeners, keeps the configured number of workers, and stops them on TERM (graceful) or INT/QUIT (quick). A worker that cannot boot (exit 3) or load the app (exit 4) halts it with that code.',
    machine: arbiterMachine,
  },
  {
    file: 'succession.md',
    title: 'Succession (in the arbiter, across a USR2 upgrade)',
    about: "Run by the arbiter for its whole life. USR2 starts a new arbiter on the same sockets, one at a time; an arbiter started that way shares the sockets (master.2, PIDFILE.2) until the one that started it exits, then takes over (master, PIDFILE). While the sockets are shared, a unix socket's file is kept when either arbiter stops.",
    machine: successionMachine,
  },
  {
    file: 'worker-handle.md',
    title: 'Worker handle (in the arbiter)',
    about: "The arbiter's mirror of one worker process: it spawns the process, tracks its reports, and applies liveness: no message within the timeout means SIGABRT, then SIGKILL a second later; a drain past the graceful timeout means SIGKILL.",
    machine: workerHandleMachine,
  },
  {
    file: 'worker.md',
    title: 'Worker',
    about: 'A worker process: loads the app, starts its kind on the inherited listeners, heartbeats to the arbiter, and drains when told.',
    machine: workerMachine,
  },
  {
    file: 'dirty-pool.md',
    title: 'Dirty pool (in the arbiter, with --dirty-app)',
    about: "The processes that hold the --dirty-app module loaded and run its functions for the workers' dirty.execute()/dirty.stream() calls. Keeps --dirty-workers of them (corral ctl dirty-scale changes it), replaces one that dies or runs a call past its deadline, reloads rolling on HUP (a new one ready before an old one drains), and drains after the workers when the arbiter stops. One that cannot boot halts corral (exit 4).",
    machine: dirtyPoolMachine,
  },
  {
    file: 'dirty-process.md',
    title: 'Dirty process handle (in the arbiter)',
    about: "The arbiter's mirror of one dirty process: it boots (module and setup()), runs one call at a time, and is killed when a call passes its deadline (the call rejects with CORRAL_ERR_DIRTY_TIMEOUT and the pool starts another). Told to leave while busy, it leaves once its call is answered.",
    machine: dirtyProcessMachine,
  },
];

const GENERATED_NOTE = '<!-- Generated from machines/ by `npm run diagrams`; do not edit. -->';

/** Every file of diagrams/, by name, as `npm run diagrams` writes it. */
export function renderDiagrams(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const { file, title, about, machine } of documentedMachines) {
    const inPlace = eventsHandledInPlace(machine);
    const table = inPlace.length === 0
      ? ''
      : `\nEvents handled without a change of state:\n\n| state | event [guard] |\n| --- | --- |\n${inPlace.map(({ state, event }) => `| ${state} | ${event} |`).join('\n')}\n`;
    files[file] = `${GENERATED_NOTE}\n# ${title}\n\n${about}\n\n\`\`\`mermaid\n${statechartToMermaid(machine)}\`\`\`\n${table}`;
  }
  files['README.md'] =
    `${GENERATED_NOTE}\n# corral's statecharts\n\nThe lifecycle of each process, drawn from the machines in \`machines/\`.\n\n` +
    documentedMachines.map(({ file, title }) => `- [${title}](${file})`).join('\n') +
    '\n';
  return files;
}
