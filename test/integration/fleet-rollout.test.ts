// A fleet rollout behind a real load balancer: HAProxy (Debian's package) on
// loopback in front of two corral instances, health-checking GET /readyz.
// Under steady keep-alive load through the balancer, A is replaced (A′ starts
// and is taken into the pool, then A gets TERM with a drain delay), then B
// likewise. Every request the load generator sends through the balancer must
// succeed. HAProxy retries nothing here (`retries 0`, no redispatch): a
// request sent to an instance that stopped accepting would be counted failed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorralProcess, fixture, startCorral, waitUntil } from '../helpers/corral-process.js';
import { startLoad } from '../helpers/load.js';

const AT_LEAST = 20_000;
const DRAIN_DELAY = 2;

function findHaproxy(): string | undefined {
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
    execFileSync('apt-get', ['install', '-y', '-q', 'haproxy'], { stdio: 'ignore', timeout: 120_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
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

/** HAProxy's view of each server: name → 'UP' | 'DOWN' …, from its stats socket. */
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

const startInstance = (slot: Slot) =>
  startCorral([
    '-w', '2',
    '-b', `127.0.0.1:${slot.port}`,
    '--health-bind', `127.0.0.1:${slot.healthPort}`,
    '--drain-delay', String(DRAIN_DELAY),
    '--graceful-timeout', '5',
    fixture('app.js'),
  ]);

test(`fleet rollout behind HAProxy under keep-alive load: 0 failed requests of at least ${AT_LEAST}`, async () => {
  const haproxy = findHaproxy();
  if (!haproxy) return console.log('  skipped: haproxy is not installed and could not be installed (apt-get install haproxy)');
  const dir = mkdtempSync(join(tmpdir(), 'corral-fleet-'));
  const statsSocket = join(dir, 'haproxy.sock');
  const instances: CorralProcess[] = [];
  let balancer: ChildProcess | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  try {
    const slot = async (name: string): Promise<Slot> => ({ name, port: await freePort(), healthPort: await freePort() });
    const [a, b, a2, b2] = [await slot('a'), await slot('b'), await slot('a2'), await slot('b2')];
    const frontPort = await freePort();
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(frontPort, statsSocket, [a, b, a2, b2]));
    const launch = (target: Slot) => {
      const corral = startInstance(target);
      instances.push(corral);
      return corral;
    };
    const isUp = async (name: string) => (await serverStates(statsSocket).catch(() => new Map())).get(name) === 'UP';
    const isDown = async (name: string) => /^DOWN/.test((await serverStates(statsSocket).catch(() => new Map())).get(name) ?? '');

    const instanceA = launch(a);
    const instanceB = launch(b);
    await Promise.all([instanceA.ready(), instanceB.ready()]);
    balancer = spawn(haproxy, ['-f', join(dir, 'haproxy.cfg'), '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let balancerLog = '';
    balancer.stderr!.on('data', (chunk) => (balancerLog += chunk));
    await waitUntil(async () => (await isUp('a')) && (await isUp('b')), { timeoutMs: 10_000, what: `HAProxy to take a and b in:\n${balancerLog}` });
    // HAProxy counts a server up until its checks fail: the empty slots must be known down before the load.
    await waitUntil(async () => (await isDown('a2')) && (await isDown('b2')), { timeoutMs: 10_000, what: 'HAProxy to see a2 and b2 down' });

    load = startLoad(`http://127.0.0.1:${frontPort}`, { clients: 8 });
    const startedAt = Date.now();
    const events: string[] = [];
    await waitUntil(() => load!.result.sent > 2000, { timeoutMs: 20_000, what: 'the load to be under way' });

    // Each instance in turn: its replacement is taken into the pool, then it gets TERM.
    const replace = async (old: CorralProcess, oldName: string, next: Slot) => {
      const replacement = launch(next);
      await replacement.ready();
      await waitUntil(() => isUp(next.name), { timeoutMs: 10_000, what: `HAProxy to take ${next.name}` });
      const sentBefore = load!.result.sent;
      events.push(`${oldName} TERM at ${((Date.now() - startedAt) / 1000).toFixed(2)} s`);
      old.signal('SIGTERM');
      await old.waitForLine(/Reporting not ready; draining in 2 s/);
      await waitUntil(() => isDown(oldName), { timeoutMs: DRAIN_DELAY * 1000, what: `HAProxy to take ${oldName} out within the drain delay` });
      assert.equal(await old.waitForExit(15_000), { code: 0, signal: null }, old.output);
      return load!.result.sent - sentBefore;
    };
    const duringA = await replace(instanceA, 'a', a2);
    const duringB = await replace(instanceB, 'b', b2);
    await waitUntil(() => load!.result.sent >= AT_LEAST, { timeoutMs: 60_000, what: `${AT_LEAST} requests through the balancer` });
    const result = await load.stop();
    load = undefined;
    const seconds = (Date.now() - startedAt) / 1000;
    console.log(`  ${result.sent} requests through HAProxy in ${seconds.toFixed(1)} s (${duringA} while A stopped, ${duringB} while B stopped), ${result.failures.length} failed`);
    const when = result.failedAt.map((at) => `${((at - startedAt) / 1000).toFixed(2)} s`);
    assert.equal(result.failures.slice(0, 10), [], `failed: ${result.failures.length} of ${result.sent}, at ${when.join(', ')}; events: ${JSON.stringify(events)}`);
    assert.ok(result.ok >= AT_LEAST);
  } finally {
    await load?.stop();
    if (balancer?.pid && balancer.exitCode === null) {
      balancer.kill('SIGKILL');
      await new Promise((resolve) => balancer!.once('exit', resolve));
    }
    await Promise.all(instances.map((instance) => instance.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
