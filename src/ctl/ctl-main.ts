// `corral ctl [--socket PATH | --pid PID|PIDFILE | --name NAME] [--json] COMMAND`:
// drives a running server through its control socket.
import net from 'node:net';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { CorralError, UsageError, describeError } from '../errors.js';
import { FrameDecoder, encodeFrame } from '../ipc/frame-codec.js';
import { CONTROL_COMMANDS, CONTROL_PROTOCOL_VERSION, type ControlEvent, type ControlReply, type ControlRequest, MAX_CONTROL_FRAME_BYTES, type StatusReply, shownState } from './control-protocol.js';
import { locateServer } from './locate-server.js';
import { checkControlSocket, checkSocketDirectory } from './path-safety.js';
import { printable, printableJson, printableStrings } from './printable.js';

export const CTL_HELP = `Usage: corral ctl [OPTIONS] COMMAND

Commands:
  status              the arbiter's state and a table of its workers
  reload              rolling reload (as HUP); waits until the new workers serve
  scale N|+N|-N       set, add or remove workers (as TTIN/TTOU, any number)
  dirty-scale N|+N|-N set, add or remove dirty processes (--dirty-app)
  reopen-logs         reopen every log file (as USR1)
  stop [--quick]      graceful stop (as TERM); --quick: at once (as INT)
  upgrade             start a new arbiter on the same sockets (as USR2)
  events [--follow]   the states of the arbiter, workers and dirty pool, then (--follow) every change
  inspector           the inspector's whole URL, token included (the log leaves the token out)

Which server:
  --socket PATH       its control socket
  --pid PID|PIDFILE   the arbiter's pid, or its pidfile
  --name NAME         its -n/--name (or app module's file name)
  -c, --config FILE   read the server's config file for the above (default: corral.config.* here)
  (none)              the only corral running for this user

  --json              print the reply as JSON (events: one JSON object per line)
  -h, --help
`;

/** How long to wait for more of the first burst of events, without --follow. */
const SETTLE_MS = 300;

/** Talks only to a socket nobody but its owner (this user or root) could have put there. */
function connect(path: string): Promise<net.Socket> {
  checkControlSocket(path);
  checkSocketDirectory(dirname(path), "or start the server with --control-socket in such a directory.");
  return new Promise((resolve, reject) => {
    const socket = net.connect(path, () => resolve(socket));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CorralError('CORRAL_ERR_CTL', `Cannot reach ${path} (${error.code ?? error.message}): is the server running, and is this its control socket?`)),
    );
  });
}

const pad = (cells: string[], widths: number[]) => cells.map((cell, index) => cell.padEnd(widths[index])).join('  ').trimEnd();

function table(head: string[], rows: string[][]): string {
  const widths = head.map((title, index) => Math.max(title.length, ...rows.map((row) => row[index].length)));
  return [pad(head, widths), ...rows.map((row) => pad(row, widths))].join('\n');
}

const duration = (seconds: number) =>
  seconds < 60 ? `${seconds}s` : seconds < 3600 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;

/** A server of an earlier version reports no CPU: shown as '-'. */
const cpuText = (cpuSeconds: number | null | undefined, ageSeconds: number) =>
  typeof cpuSeconds === 'number' ? `${cpuSeconds.toFixed(1)}s (${cpuShare(cpuSeconds, ageSeconds)}%)` : '-';
/** As ps(1) shows %CPU: CPU time over the time it has run, as % of one core. */
const cpuShare = (cpuSeconds: number | null | undefined, ageSeconds: number) => (typeof cpuSeconds !== 'number' ? '-' : `${((cpuSeconds / Math.max(1, ageSeconds)) * 100).toFixed(1)}`);

function renderDirty(dirty: NonNullable<StatusReply['dirty']>): string {
  const head = `dirty pool [${dirty.module}]: ${dirty.state}, generation ${dirty.generation}, ${dirty.workers} process(es) wanted, ${dirty.queued} call(s) waiting`;
  const rows = dirty.processes.map((p) => [String(p.pid ?? '-'), shownState(p), String(p.generation), p.running ?? '-']);
  const calls = Object.entries(dirty.functions).map(([name, f]) => [name, String(f.calls), String(f.failures), String(f.timeouts), f.calls > 0 ? ((f.seconds / f.calls) * 1000).toFixed(1) : '-']);
  return `${head}\n\n${table(['PID', 'STATE', 'GEN', 'RUNNING'], rows)}${calls.length ? `\n\n${table(['FUNCTION', 'CALLS', 'FAILED', 'TIMED OUT', 'MEAN MS'], calls)}` : ''}`;
}

function renderStatus({ arbiter, workers, dirty }: StatusReply): string {
  const head = `corral master [${arbiter.name}] pid ${arbiter.pid}: ${arbiter.state}, up ${duration(arbiter.uptimeSeconds)}, generation ${arbiter.generation}, ${arbiter.workers} worker(s) wanted, cpu ${cpuText(arbiter.cpuSeconds, arbiter.uptimeSeconds)}\nlistening: ${arbiter.listeners.join(', ') || '-'}`;
  const rows = workers.map((w) => [
    String(w.pid ?? '-'),
    w.kind,
    w.state,
    duration(w.ageSeconds),
    String(w.served),
    String(w.inFlight),
    w.lagMs.toFixed(1),
    w.rssBytes > 0 ? (w.rssBytes / 2 ** 20).toFixed(1) : '-',
    typeof w.cpuSeconds === 'number' ? w.cpuSeconds.toFixed(1) : '-',
    cpuShare(w.cpuSeconds, w.ageSeconds),
  ]);
  const workerTable = `${head}\n\n${table(['PID', 'KIND', 'STATE', 'AGE', 'SERVED', 'IN FLIGHT', 'LAG MS', 'RSS MB', 'CPU S', '%CPU'], rows)}`;
  return dirty ? `${workerTable}\n\n${renderDirty(dirty)}` : workerTable;
}

function renderEvent(event: ControlEvent): string {
  switch (event.type) {
    case 'arbiter':
      return `${event.at} arbiter ${event.state}`;
    case 'worker':
      return `${event.at} worker ${event.id} (pid ${event.pid ?? '-'}) ${event.state}`;
    case 'exit':
      return `${event.at} worker ${event.id} (pid ${event.pid ?? '-'}) exited: ${event.cause}${event.signal ? ` (${event.signal})` : event.exitCode !== null ? ` (code ${event.exitCode})` : ''}`;
    case 'reloaded':
      return `${event.at} reload ${event.ok ? 'complete' : `failed: ${event.reason}`}`;
    case 'command':
      return `${event.at} ctl ${event.command}`;
    case 'dirty':
      return `${event.at} dirty pool ${event.state}`;
    case 'dirty-process':
      return `${event.at} dirty process ${event.id} (pid ${event.pid ?? '-'}) ${event.state}`;
  }
}

function renderResult(command: string, result: Record<string, unknown>): string {
  switch (command) {
    case 'status':
      return renderStatus(result as unknown as StatusReply);
    case 'reload':
      return `Reload complete: generation ${String(result.generation)} serving`;
    case 'scale':
      return `Scaling from ${String(result.from)} to ${String(result.to)} worker(s)`;
    case 'dirty-scale':
      return `Scaling the dirty pool from ${String(result.from)} to ${String(result.to)} process(es)`;
    case 'reopen-logs':
      return 'Reopening log files';
    case 'upgrade':
      return 'Upgrade started: a new arbiter is starting on the same sockets';
    case 'inspector':
      return String(result.url);
    default:
      return 'Stopping';
  }
}

export async function ctlMain(argv: string[], out = process.stdout): Promise<number> {
  // `scale -1` is a count, not an option.
  const counts = argv.filter((arg) => /^-\d+$/.test(arg));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.filter((arg) => !counts.includes(arg)),
      allowPositionals: true,
      options: {
        socket: { type: 'string' },
        pid: { type: 'string' },
        name: { type: 'string', short: 'n' },
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        quick: { type: 'boolean' },
        follow: { type: 'boolean', short: 'f' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`Error: ${(error as Error).message}\n\n${CTL_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(CTL_HELP);
    return 0;
  }
  const [command, argument = counts[0]] = positionals;
  if (!CONTROL_COMMANDS.includes(command as never)) {
    process.stderr.write(`Error: ${command ? `unknown command '${command}'` : 'no command given'}; commands: ${CONTROL_COMMANDS.join(', ')}.\n`);
    return 2;
  }
  if (command === 'dirty-scale' && !/^[+-]?\d+$/.test(argument ?? '')) {
    process.stderr.write('Error: dirty-scale takes N, +N or -N, e.g. `corral ctl dirty-scale 2`.\n');
    return 2;
  }
  if (command === 'scale' && !/^[+-]?\d+$/.test(argument ?? '')) {
    process.stderr.write('Error: scale takes N, +N or -N, e.g. `corral ctl scale 4` or `corral ctl scale +1`.\n');
    return 2;
  }
  const request: ControlRequest = { v: CONTROL_PROTOCOL_VERSION, command: command as ControlRequest['command'] };
  if (command === 'scale' || command === 'dirty-scale') request.workers = argument;
  if (values.quick) request.quick = true;

  try {
    const path = await locateServer({ socket: values.socket, pid: values.pid, name: values.name, config: values.config, cwd: process.cwd() });
    const socket = await connect(path);
    socket.write(encodeFrame(request));
    return await new Promise<number>((resolve) => {
      const decoder = new FrameDecoder(MAX_CONTROL_FRAME_BYTES * 64);
      let settle: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (status: number) => {
        if (done) return;
        done = true;
        clearTimeout(settle);
        socket.destroy();
        resolve(status);
      };
      // Whatever the server sends is shown escaped, and a reply of another shape is an error, not a crash.
      const show = (reply: ControlReply): number | undefined => {
        if ('event' in reply) {
          out.write(`${values.json ? printableJson(reply.event) : renderEvent(printableStrings(reply.event) as ControlEvent)}\n`);
          if (!values.follow) {
            clearTimeout(settle);
            settle = setTimeout(() => finish(0), SETTLE_MS);
          }
          return undefined;
        }
        if (reply.ok) {
          out.write(`${values.json ? printableJson(reply.result, 2) : renderResult(command, printableStrings(reply.result) as Record<string, unknown>)}\n`);
          return 0;
        }
        process.stderr.write(`Error: ${printable(String(reply.error.message))} [${printable(String(reply.error.code))}]\n`);
        return 1;
      };
      socket.on('data', (chunk: Buffer) => {
        const { messages, error } = decoder.push(chunk);
        for (const raw of messages) {
          let status: number | undefined;
          try {
            status = show(raw as ControlReply);
          } catch (unreadable) {
            process.stderr.write(`Error: the server's reply is not what this corral ctl understands (${printable(describeError(unreadable))}); is the server the same version?\n`);
            status = 1;
          }
          if (status !== undefined) return finish(status);
        }
        if (error) {
          process.stderr.write(`Error: the server's reply cannot be read: ${error.message}\n`);
          finish(1);
        }
      });
      socket.on('close', () => {
        if (command !== 'events' && !done) process.stderr.write('Error: the server closed the connection without answering.\n');
        finish(command === 'events' ? 0 : 1);
      });
      if (command === 'events' && !values.follow) settle = setTimeout(() => finish(0), SETTLE_MS * 3);
    });
  } catch (error) {
    process.stderr.write(`Error: ${printable(describeError(error))}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
