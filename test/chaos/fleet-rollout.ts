// A fleet rollout behind a real load balancer: HAProxy (Debian's package) on
// loopback in front of two corral instances, health-checking GET /readyz.
// Under steady keep-alive load through the balancer, A is replaced (A′ starts
// and is taken into the pool, then A gets TERM with a drain delay), then B
// likewise, and again for as long as the scenario runs. HAProxy retries
// nothing (`retries 0`, no redispatch): a request sent to an instance that has
// stopped accepting is counted failed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CorralProcess, fixture, startCorral, waitUntil } from '../helpers/corral-process.js';
import { startLoad } from '../helpers/load.js';
import type { ChaosReport } from './scenarios.js';

/** haproxy's path, installing Debian's package if it is missing and we may; undefined when neither works. */
export function findHaproxy(): string | undefined {
  const locate = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const found = locate();
  if (found || process.getuid?.() !== 0) return found;
  try {
    execFileSync('apt-get', ['install', '-y', '-q', 'haproxy'], { stdio: 'ignore', timeout: 180_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    return undefined;
  }
  return locate();
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

interface Slot {
  name: string;
  port: number;
  healthPort: number;
}

const haproxyConfig = (frontPort: number, statsSocket: string, slots: Slot[]) => `
global
  maxconn 2000
  stats socket ${statsSocket} level admin

defaults
  mode http
  option http-keep-alive
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  # Nothing hides a refused or reset connection.
  retries 0

frontend fleet
  bind 127.0.0.1:${frontPort}
  default_backend corral

backend corral
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 200ms fall 2 rise 2 pool-purge-delay 500ms
${slots.map((slot) => `  server ${slot.name} 127.0.0.1:${slot.port} check port ${slot.healthPort}`).join('\n')}
`;

/** HAProxy's view of each server of the backend: name → UP, DOWN …, from its stats socket. */
function serverStates(statsSocket: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(statsSocket);
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const states = new Map<string, string>();
      const [header, ...rows] = text.trim().split('\n');
      const columns = header.replace(/^# /, '').split(',');
      for (const row of rows) {
        const cells = row.split(',');
        const record = Object.fromEntries(columns.map((column, at) => [column, cells[at]]));
        if (record.pxname === 'corral' && record.svname !== 'BACKEND') states.set(record.svname, record.status);
      }
      resolve(states);
    });
    socket.write('show stat\n');
  });
}

export interface FleetRolloutOptions {
  drainDelay?: number;
  clients?: number;
  /** Keep rolling until at least this many requests went through the balancer. */
  minRequests?: number;
}

export async function fleetRollout(haproxy: string, seconds: number, { drainDelay = 2, clients = 8, minRequests = 0 }: FleetRolloutOptions = {}): Promise<ChaosReport> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-fleet-'));
  const statsSocket = join(dir, 'haproxy.sock');
  const instances: CorralProcess[] = [];
  let balancer: ChildProcess | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  try {
    const slot = async (name: string): Promise<Slot> => ({ name, port: await freePort(), healthPort: await freePort() });
    // Two slots per instance: the replacement starts in the one its predecessor does not use.
    const pairs = [[await slot('a'), await slot('a2')], [await slot('b'), await slot('b2')]];
    const frontPort = await freePort();
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(frontPort, statsSocket, pairs.flat()));
    const launch = (target: Slot) => {
      const corral = startCorral(['-w', '2', '-b', `127.0.0.1:${target.port}`, '--health-bind', `127.0.0.1:${target.healthPort}`, '--drain-delay', String(drainDelay), '--graceful-timeout', '5', '--no-control-socket', fixture('app.js')]);
      instances.push(corral);
      return corral;
    };
    const stateOf = async (name: string) => (await serverStates(statsSocket).catch(() => new Map<string, string>())).get(name) ?? '';
    const isUp = async (name: string) => (await stateOf(name)) === 'UP';
    const isDown = async (name: string) => (await stateOf(name)).startsWith('DOWN');

    const running = [launch(pairs[0][0]), launch(pairs[1][0])];
    const at = [0, 0];
    await Promise.all(running.map((corral) => corral.ready()));
    balancer = spawn(haproxy, ['-f', join(dir, 'haproxy.cfg'), '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let balancerLog = '';
    balancer.stderr!.on('data', (chunk) => (balancerLog += chunk));
    await waitUntil(async () => (await isUp('a')) && (await isUp('b')), { timeoutMs: 10_000, what: `HAProxy to take a and b in:\n${balancerLog}` });
    // HAProxy counts a server up until its checks fail: the empty slots must be known down before the load.
    await waitUntil(async () => (await isDown('a2')) && (await isDown('b2')), { timeoutMs: 10_000, what: 'HAProxy to see a2 and b2 down' });

    load = startLoad(`http://127.0.0.1:${frontPort}`, { clients });
    const startedAt = Date.now();
    const notes: string[] = [];
    let stopsClean = true;
    let rollouts = 0;
    await waitUntil(() => load!.result.sent > 1000, { timeoutMs: 20_000, what: 'the load to be under way' });
    // One instance after the other, as a Deployment with maxSurge 1, maxUnavailable 0 does.
    do {
      for (const pair of [0, 1]) {
        const old = running[pair];
        const oldSlot = pairs[pair][at[pair]];
        const nextSlot = pairs[pair][1 - at[pair]];
        const replacement = launch(nextSlot);
        await replacement.ready();
        await waitUntil(() => isUp(nextSlot.name), { timeoutMs: 10_000, what: `HAProxy to take ${nextSlot.name}` });
        old.signal('SIGTERM');
        if (drainDelay > 0) {
          await old.waitForLine(/Reporting not ready; draining in/);
          const takenOut = await waitUntil(() => isDown(oldSlot.name), { timeoutMs: drainDelay * 1000, what: '' }).then(() => true, () => false);
          if (!takenOut) notes.push(`HAProxy had not taken ${oldSlot.name} out by the end of the drain delay`);
        }
        const exit = await old.waitForExit(20_000);
        if (exit.code !== 0) (stopsClean = false), notes.push(`${oldSlot.name} exited ${JSON.stringify(exit)}`);
        await waitUntil(() => isDown(oldSlot.name), { timeoutMs: 5000, what: `HAProxy to see ${oldSlot.name} down` });
        running[pair] = replacement;
        at[pair] = 1 - at[pair];
      }
      rollouts += 1;
    } while (Date.now() - startedAt < seconds * 1000 || load.result.sent < minRequests);
    const result = await load.stop();
    load = undefined;
    const elapsed = (Date.now() - startedAt) / 1000;
    for (const corral of running) {
      corral.signal('SIGTERM');
      const exit = await corral.waitForExit(20_000);
      if (exit.code !== 0) (stopsClean = false), notes.push(`a last instance exited ${JSON.stringify(exit)}`);
    }
    return {
      scenario: `fleet rollout behind HAProxy (health checks on /readyz every 200 ms, no retries), 2 instances × -w 2, --drain-delay ${drainDelay}, ${clients} keep-alive clients`,
      seconds: Math.round(elapsed),
      sent: result.sent,
      ok: result.ok,
      failed: result.failures.length,
      reasons: result.failures.reduce<Record<string, number>>((all, reason) => ({ ...all, [reason]: (all[reason] ?? 0) + 1 }), {}),
      expectation: '0 failed requests through the balancer; every stopped instance exits 0',
      met: result.failures.length === 0 && stopsClean,
      notes: [`${rollouts} full rollout(s), ${rollouts * 2} instances replaced in ${elapsed.toFixed(1)} s`, ...notes],
    };
  } finally {
    await load?.stop();
    if (balancer?.pid && balancer.exitCode === null) {
      balancer.kill('SIGKILL');
      await new Promise((resolve) => balancer!.once('exit', resolve));
    }
    await Promise.all(instances.map((instance) => instance.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
