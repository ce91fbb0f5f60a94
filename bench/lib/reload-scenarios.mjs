// The reload bench's scenarios, each run under the same continuous load on
// examples/test.js. A scenario starts its server, drives its reloads while the
// load runs, and may add figures read from the server's log afterwards.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPm2Cluster } from './reload-pm2.mjs';
import { spreadReloads } from './reload-schedule.mjs';
import { startWatchedServer } from './reload-server.mjs';
import { upgradeArbiter } from './reload-upgrade.mjs';
import { ROOT } from './targets.mjs';

const CORRAL_CLI = 'dist/src/cli/main.js';
const APP = 'examples/test.js';
const CORRAL_PORT_LINE = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/;
const CORRAL_READY_LINE = /\[INFO\] Ready: 2 worker\(s\) serving/;
const BOOT_LINE = /\[INFO\] Booting worker with pid: \d+/;
const PEER_PORT_LINE = /^LISTENING (\d+)$/;

export const WORKERS = 2;

const startCorral = (extraArgs) => {
  if (!existsSync(join(ROOT, CORRAL_CLI))) throw new Error(`${CORRAL_CLI} not found (build it with \`npm run build\`)`);
  return startWatchedServer({
    name: 'corral',
    args: [CORRAL_CLI, '-w', String(WORKERS), '-b', '127.0.0.1:0', ...extraArgs, APP],
    cwd: ROOT,
    portPattern: CORRAL_PORT_LINE,
    readyPattern: CORRAL_READY_LINE,
  });
};

/** Send `sig` and resolve on the next log line matching `done`. */
const signalAndWait = (server, sig, done) => async ({ timeoutMs }) => {
  const completed = server.waitForLine(done, { timeoutMs, what: `${done} after ${sig}` });
  if (!server.signal(sig)) throw new Error(`${server.name}: not running, cannot send ${sig}`);
  await completed;
};

/**
 * @param {{ reloads: number, maxRequests: number, usr2: boolean, pm2: () => Promise<{dir: string, version: string}> }} options
 *   `pm2` installs PM2 on first use and rejects with the reason it cannot.
 */
export function reloadScenarios({ reloads, maxRequests, usr2, pm2 }) {
  return [
    {
      key: 'corral-hup',
      label: `corral -w ${WORKERS}, HUP ×${reloads}`,
      corral: true,
      start: () => startCorral([]),
      drive: (server, run) => spreadReloads({
        ...run,
        count: reloads,
        trigger: signalAndWait(server, 'SIGHUP', /\[INFO\] Reload complete: generation \d+ serving/),
      }),
    },
    {
      key: 'cluster-rolling',
      label: `node:cluster, ${WORKERS} workers, rolling restart ×${reloads}`,
      start: () => startWatchedServer({
        name: 'cluster',
        args: ['bench/peers/cluster-rolling.mjs', String(WORKERS)],
        cwd: ROOT,
        portPattern: PEER_PORT_LINE,
      }),
      drive: (server, run) => spreadReloads({
        ...run,
        count: reloads,
        trigger: signalAndWait(server, 'SIGHUP', /^RELOADED \d+$/),
      }),
    },
    {
      key: 'pm2-reload',
      label: `PM2 cluster mode, ${WORKERS} instances, \`pm2 reload\` ×${reloads}`,
      optional: true, // skipped, not failed, when PM2 cannot be installed
      start: async () => {
        const installed = await pm2();
        const server = await startPm2Cluster({ dir: installed.dir, cwd: ROOT, instances: WORKERS });
        server.version = installed.version;
        return server;
      },
      drive: (server, run) => spreadReloads({ ...run, count: reloads, trigger: () => server.reload() }),
      notes: (server) => [`PM2 ${server.version}`],
    },
    {
      key: 'corral-max-requests',
      label: `corral -w ${WORKERS} --max-requests ${maxRequests}`,
      corral: true,
      start: () => startCorral(['--max-requests', String(maxRequests)]),
      // No signals: workers are recycled by the arbiter as they reach the limit.
      recycled: (server) => server.count(BOOT_LINE) - WORKERS,
    },
    {
      key: 'corral-usr2',
      label: `corral -w ${WORKERS}, USR2 + WINCH + TERM upgrade ×1`,
      corral: true,
      disabled: usr2 ? null : 'disabled by BENCH_RELOAD_USR2=0',
      start: async () => {
        const dir = mkdtempSync(join(tmpdir(), 'corral-bench-usr2-'));
        const removeDir = () => rmSync(dir, { recursive: true, force: true });
        process.once('exit', removeDir); // even when the run is interrupted
        const pidfile = join(dir, 'corral.pid');
        let server;
        try {
          server = await startCorral(['-p', pidfile]);
        } catch (err) {
          removeDir();
          throw err;
        }
        const stop = server.stop;
        return Object.assign(server, {
          pidfile,
          stop: async (options) => {
            try {
              return await stop(options);
            } finally {
              removeDir();
            }
          },
        });
      },
      // Once, in the middle of the run: the whole sequence takes a few seconds.
      drive: async (server, { startedAt, durationMs }) => {
        const at = startedAt + Math.max(1_000, durationMs / 2 - 2_000);
        await sleep(Math.max(0, at - performance.now()));
        const t = performance.now();
        try {
          const { newPid, steps } = await upgradeArbiter(server, { pidfile: server.pidfile });
          const done = performance.now();
          return {
            planned: 1,
            started: 1,
            reloads: [{ startMs: t - startedAt, endMs: done - startedAt }],
            notes: [`new arbiter ${newPid}; USR2→ready ${steps.usr2ToReady} ms, WINCH→old workers gone ${steps.winchToWorkersGone} ms, TERM→old arbiter gone ${steps.termToExit} ms`],
          };
        } catch (err) {
          return { planned: 1, started: 1, reloads: [], error: err.message };
        }
      },
    },
  ];
}
