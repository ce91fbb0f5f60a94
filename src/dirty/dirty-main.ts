// Entry point of a dirty process: loads the --dirty-app module once (and runs its
// setup()), then runs one call at a time as the arbiter hands them over its pipe
// (fd 3). A function's throw is that call's error, never the process's end.
import net from 'node:net';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveAppModule } from '../app/load-app.js';
import { isTypeScript, prepareTypeScript } from '../app/typescript-loader.js';
import type { DirtyErrorCode } from '../errors.js';
import { openChannel } from '../ipc/channel.js';
import { encodeFrame } from '../ipc/frame-codec.js';
import { IPC_FD } from '../ipc/protocol.js';
import { dropPrivileges } from '../worker/drop-privileges.js';
import { FRAME_OVERHEAD_BYTES, type DirtyToRouter, type RouterToDirty, STREAM_WINDOW, decodePayload, encodePayload } from './dirty-protocol.js';

type DirtyFunction = (...args: unknown[]) => unknown;

const pipe = new net.Socket({ fd: IPC_FD, readable: true, writable: true });
const send = (message: DirtyToRouter) => {
  if (!pipe.destroyed) pipe.write(encodeFrame(message));
};

let functions: Map<string, DirtyFunction> | undefined;
// The arbiter passes the cap in argv, so the first frames are already read with it.
const maxMessageBytes = Number(process.argv[2]) || 16 * 1024 * 1024;
let busy = false;
/** The stream being sent: chunks the app has not taken yet, and who waits for it to take one. */
const streaming = { id: -1, unacknowledged: 0, cancelled: false, wake: undefined as (() => void) | undefined };
let leaving = false;

const describe = (error: unknown) => {
  if (!(error instanceof Error)) return String(error);
  // corral's own errors (a module not found) say it all; others keep their name (TypeError: …).
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('CORRAL_ERR_')) {
    return error.message.replace('Check APP_MODULE', 'Check --dirty-app');
  }
  return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
};

/** Exported functions by name; a CommonJS module's come as its default export's. */
function functionsOf(namespace: Record<string, unknown>): Map<string, DirtyFunction> {
  const found = new Map<string, DirtyFunction>();
  const cjs = namespace.default;
  if (cjs && typeof cjs === 'object') for (const [name, value] of Object.entries(cjs)) if (typeof value === 'function') found.set(name, value as DirtyFunction);
  for (const [name, value] of Object.entries(namespace)) if (typeof value === 'function' && name !== 'default') found.set(name, value as DirtyFunction);
  return found;
}

async function boot(init: Extract<RouterToDirty, { t: 'init' }>) {
  process.title = `corral: dirty ${init.id}`;
  try {
    // As the workers do: --user/--group before any of the module's code runs.
    if (init.identity) dropPrivileges(init.identity, init.initgroups === true);
    const file = resolveAppModule(init.module, init.cwd);
    if (isTypeScript(file)) await prepareTypeScript([dirname(file), init.cwd]);
    const namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const found = functionsOf(namespace);
    const setup = found.get('setup');
    found.delete('setup');
    if (found.size === 0) throw new Error(`'${init.module}' exports no function to call; export the functions dirty.execute() names`);
    // Once per process: what it loads (a model, an index) stays for every call.
    if (setup) await setup();
    functions = found;
    send({ t: 'ready' });
  } catch (error) {
    send({ t: 'bootFailed', message: `--dirty-app '${init.module}': ${describe(error)}` });
    pipe.end(() => process.exit(4));
  }
}

const isIterable = (value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> =>
  value !== null &&
  typeof value === 'object' &&
  !(value instanceof Uint8Array) &&
  !Array.isArray(value) &&
  (Symbol.asyncIterator in value || (Symbol.iterator in value && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' && !(value instanceof Map) && !(value instanceof Set)));

class CallFailure extends Error {
  constructor(
    readonly code: DirtyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function encodeCapped(value: unknown, what: string): Buffer {
  const bytes = encodePayload(value);
  if (bytes.length > maxMessageBytes) {
    throw new CallFailure('CORRAL_ERR_DIRTY_TOO_LARGE', `${what} is ${bytes.length} bytes as msgpack, over --dirty-max-message (${maxMessageBytes} bytes): return less, or raise the limit`);
  }
  return bytes;
}

async function run(call: Extract<RouterToDirty, { t: 'call' }>) {
  busy = true;
  try {
    const fn = functions!.get(call.name);
    if (!fn) throw new CallFailure('CORRAL_ERR_DIRTY_NO_FUNCTION', `the dirty module has no function '${call.name}' (it has: ${[...functions!.keys()].join(', ')})`);
    const args = decodePayload(call.args);
    const outcome = await fn(...(Array.isArray(args) ? args : [args]));
    if (call.stream) {
      if (isIterable(outcome)) {
        streaming.id = call.id;
        streaming.unacknowledged = 0;
        streaming.cancelled = false;
        for await (const chunk of outcome) {
          send({ t: 'chunk', id: call.id, value: encodeCapped(chunk, `a chunk of '${call.name}'`) });
          streaming.unacknowledged += 1;
          // Back-pressure: the generator is not pulled again until the app has caught up.
          while (streaming.unacknowledged >= STREAM_WINDOW && !streaming.cancelled) await new Promise<void>((resolve) => (streaming.wake = resolve));
          // Its reader stopped: leaving the loop closes the generator (its finally blocks run).
          if (streaming.cancelled) break;
        }
      } else {
        send({ t: 'chunk', id: call.id, value: encodeCapped(outcome, `the result of '${call.name}'`) });
      }
      send({ t: 'end', id: call.id });
    } else {
      // execute() of a generator: its chunks, gathered.
      let value = outcome;
      if (isIterable(outcome)) {
        const gathered: unknown[] = [];
        for await (const chunk of outcome) gathered.push(chunk);
        value = gathered;
      }
      send({ t: 'result', id: call.id, value: encodeCapped(value, `the result of '${call.name}'`) });
    }
  } catch (error) {
    if (error instanceof CallFailure) send({ t: 'error', id: call.id, code: error.code, message: error.message });
    else send({ t: 'error', id: call.id, code: 'CORRAL_ERR_DIRTY_FAILED', message: `'${call.name}' threw: ${describe(error)}` });
  } finally {
    streaming.id = -1;
    busy = false;
    if (leaving) pipe.end(() => process.exit(0));
  }
}

let booting = false;
openChannel<RouterToDirty, DirtyToRouter>(
  pipe,
  (raw) => raw as RouterToDirty,
  {
    message(message) {
      if (message.t === 'init' && !booting) {
        booting = true;
        void boot(message);
      } else if (message.t === 'call' && functions) void run(message);
      else if ((message.t === 'ack' || message.t === 'cancel') && message.id === streaming.id) {
        if (message.t === 'cancel') streaming.cancelled = true;
        else streaming.unacknowledged -= 1;
        const wake = streaming.wake;
        streaming.wake = undefined;
        wake?.();
      }
    },
    protocolError(error) {
      process.stderr.write(`corral dirty process: the arbiter's messages cannot be read (${error.message}); exiting\n`);
      process.exit(1);
    },
    // The arbiter is gone: nobody will ask for anything any more.
    close: () => process.exit(0),
  },
  maxMessageBytes + FRAME_OVERHEAD_BYTES,
);

// TERM: leave once the call in hand is answered (the arbiter hands no more). QUIT/INT: now.
process.on('SIGTERM', () => {
  leaving = true;
  if (!busy) pipe.end(() => process.exit(0));
});
for (const signal of ['SIGQUIT', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
