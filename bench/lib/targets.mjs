// The servers compared by the bench, all serving examples/test.js.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './start-server.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CORRAL_CLI = 'dist/src/cli/main.js';
const PEER_LINE = /^LISTENING (\d+)$/;
const CORRAL_PORT_LINE = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/;
const corralBuilt = () => (existsSync(new URL(`../../${CORRAL_CLI}`, import.meta.url))
  ? null
  : `${CORRAL_CLI} not found (build it with \`npm run build\`)`);

/** Where the access-log target writes; run.mjs removes it when the bench ends. */
export const ACCESS_LOG_FILE = join(tmpdir(), `corral-bench-access-${process.pid}.log`);

export const TARGETS = [
  {
    key: 'corral',
    label: 'corral -w 2',
    args: [CORRAL_CLI, '-w', '2', '-b', '127.0.0.1:0', 'examples/test.js'],
    portPattern: CORRAL_PORT_LINE,
    precheck: corralBuilt,
  },
  {
    // The same corral with its access log on (gunicorn's default format, to a file): what one line per request costs.
    key: 'corral-accesslog',
    label: 'corral -w 2 --access-logfile',
    args: [CORRAL_CLI, '-w', '2', '-b', '127.0.0.1:0', '--access-logfile', ACCESS_LOG_FILE, 'examples/test.js'],
    portPattern: CORRAL_PORT_LINE,
    precheck: corralBuilt,
  },
  {
    key: 'cluster',
    label: 'node:cluster, 2 workers (RR)',
    args: ['bench/peers/cluster.mjs', '2'],
    portPattern: PEER_LINE,
  },
  {
    key: 'single',
    label: 'single process',
    args: ['bench/peers/single.mjs'],
    portPattern: PEER_LINE,
  },
];

/** `BENCH_ONLY=<scenario>` runs just these targets, and no cold start. */
export const SCENARIOS = {
  accesslog: ['corral', 'corral-accesslog'],
};

/** Start a target and wait for its first 200; errors name the target. */
export async function startTarget(target, options = {}) {
  const problem = target.precheck?.();
  if (problem) throw new Error(`${target.key}: ${problem}`);
  return startServer({ name: target.key, args: target.args, portPattern: target.portPattern, cwd: ROOT, ...options });
}
