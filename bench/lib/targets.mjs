// The servers the bench compares, as they serve a given scenario's app:
// corral, node:cluster (round robin and SCHED_NONE), one bare process, PM2's
// cluster mode and Debian's gunicorn (sync and gthread, on the same handler as WSGI).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './start-server.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CORRAL_CLI = 'dist/src/cli/main.js';
const PEER_LINE = /^LISTENING (\d+)$/;
const CORRAL_PORT_LINE = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/;
const corralBuilt = () => (existsSync(new URL(`../../${CORRAL_CLI}`, import.meta.url)) ? null : `${CORRAL_CLI} not found (build it with \`npm run build\`)`);

/** Where the access-log target writes; the bench removes it when it ends. */
export const ACCESS_LOG_FILE = join(tmpdir(), `corral-bench-access-${process.pid}.log`);

let gunicornChecked;
/** null when gunicorn runs here; else why not. Installed with apt-get when this is root and it is missing. */
export function gunicornProblem() {
  if (gunicornChecked !== undefined) return gunicornChecked;
  const runs = () => spawnSync('gunicorn', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!runs() && process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
    spawnSync('apt-get', ['install', '-y', '-q', 'gunicorn'], { stdio: 'ignore', timeout: 180_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  gunicornChecked = runs() ? null : 'gunicorn is not installed and apt-get could not install it';
  return gunicornChecked;
}

const keepAliveEnv = (scenario) => (scenario.keepAlive ? { BENCH_KEEPALIVE_S: String(scenario.keepAlive) } : undefined);

/** corral with 2 workers and `flags` on the scenario's app. */
const corral = (key, label, flags) => (scenario) => ({
  key,
  label,
  args: [CORRAL_CLI, ...flags, '-w', '2', '-b', '127.0.0.1:0', '--no-control-socket', ...(scenario.keepAlive ? ['--keep-alive', String(scenario.keepAlive)] : []), scenario.app],
  portPattern: CORRAL_PORT_LINE,
  precheck: corralBuilt,
});

/** node:cluster with 2 workers and the scheduling policy named (rr | none). */
const nodeCluster = (scheduling, label) => (scenario) => ({
  key: `cluster-${scheduling}`,
  label,
  args: ['bench/peers/cluster.mjs', '2', scenario.app, scheduling],
  env: keepAliveEnv(scenario),
  portPattern: PEER_LINE,
});

/** Target factories: each takes a scenario and returns what to start, or null when it has no such app. */
export const TARGETS = {
  corral: corral('corral', 'corral -w 2', []),
  // The same with its access log on (gunicorn's default format, to a file): what one line per request costs.
  'corral-accesslog': corral('corral-accesslog', 'corral -w 2 --access-logfile', ['--access-logfile', ACCESS_LOG_FILE]),
  'corral-thread': corral('corral-thread', 'corral -k thread -w 2 --threads 8', ['-k', 'thread', '--threads', '8']),
  'corral-sync': corral('corral-sync', 'corral -k sync -w 2', ['-k', 'sync']),
  'cluster-rr': nodeCluster('rr', 'node:cluster -w 2 (round robin)'),
  'cluster-none': nodeCluster('none', 'node:cluster -w 2 (SCHED_NONE)'),
  single: (scenario) => ({
    key: 'single',
    label: 'single process',
    args: ['bench/peers/single.mjs', scenario.app],
    env: keepAliveEnv(scenario),
    portPattern: PEER_LINE,
  }),
  // Started by bench/lib/reload-pm2.mjs, which installs PM2 into a scratch directory.
  pm2: (scenario) => ({ key: 'pm2', label: 'PM2 cluster mode -i 2', pm2: true, app: scenario.app, keepAlive: scenario.keepAlive }),
  'gunicorn-sync': (scenario) =>
    scenario.wsgi && {
      key: 'gunicorn-sync',
      label: 'gunicorn -k sync -w 2',
      args: ['bench/peers/gunicorn.mjs', 'sync', '2', '1', scenario.wsgi],
      portPattern: PEER_LINE,
      precheck: gunicornProblem,
    },
  'gunicorn-gthread': (scenario) =>
    scenario.wsgi && {
      key: 'gunicorn-gthread',
      label: 'gunicorn -k gthread -w 2 --threads 8',
      args: ['bench/peers/gunicorn.mjs', 'gthread', '2', '8', scenario.wsgi],
      env: keepAliveEnv(scenario),
      portPattern: PEER_LINE,
      precheck: gunicornProblem,
    },
};

/** Start a target and wait for its first 200; errors name the target. */
export async function startTarget(target, options = {}) {
  const problem = target.precheck?.();
  if (problem) throw new Error(`${target.key}: ${problem}`);
  return startServer({ name: target.key, args: target.args, portPattern: target.portPattern, cwd: ROOT, env: target.env, ...options });
}
