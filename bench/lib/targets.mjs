// The three servers compared by the bench, all serving examples/test.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer } from './start-server.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CORRAL_CLI = 'dist/src/cli/main.js';
const PEER_LINE = /^LISTENING (\d+)$/;

export const TARGETS = [
  {
    key: 'corral',
    label: 'corral -w 2',
    args: [CORRAL_CLI, '-w', '2', '-b', '127.0.0.1:0', 'examples/test.js'],
    portPattern: /Listening at: http:\/\/127\.0\.0\.1:(\d+)/,
    precheck: () => (existsSync(new URL(`../../${CORRAL_CLI}`, import.meta.url))
      ? null
      : `${CORRAL_CLI} not found (build it with \`npm run build\`)`),
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

/** Start a target and wait for its first 200; errors name the target. */
export async function startTarget(target, options = {}) {
  const problem = target.precheck?.();
  if (problem) throw new Error(`${target.key}: ${problem}`);
  return startServer({ name: target.key, args: target.args, portPattern: target.portPattern, cwd: ROOT, ...options });
}
