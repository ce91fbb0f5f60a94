// The container and Kubernetes examples say the same as corral's settings:
// examples/kubernetes/deployment.yaml is parsed, and its container's args are
// resolved by corral's own settings resolver; the probes, ports, scrape
// annotations, grace period and memory limit are checked against them, and
// examples/Dockerfile against the same rules.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveSettings } from '../../src/config/resolve-settings.js';
import { parseSize } from '../../src/config/size.js';
import { LIVENESS_PATH, READINESS_PATH } from '../../src/metrics/health-routes.js';
import { METRICS_PATH, parseHealthBind, parseMetricsBind } from '../../src/metrics/metrics-server.js';
import { REPO_ROOT } from '../helpers/corral-process.js';
import { parseYamlDocuments } from '../helpers/yaml-subset.js';

/** What `kill -TERM` to `KILL` may take at most besides the drain delay and graceful timeout: the arbiter's kill delay. */
const KILL_DELAY_SECONDS = 1;
/** What the arbiter and a replacement worker booting beside an old one take, besides the workers' --max-memory. */
const ARBITER_AND_REPLACEMENT_BYTES = 200 * 1024 * 1024;

type Json = any;

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** corral's settings for a command line, resolved as the CLI would (no config file). */
async function settingsOf(args: string[]) {
  const empty = mkdtempSync(join(tmpdir(), 'corral-example-'));
  try {
    const corralAt = args.findIndex((arg) => /(^|\/)corral$/.test(arg));
    assert.ok(corralAt >= 0, `the command runs corral: ${args.join(' ')}`);
    const resolved = await resolveSettings(args.slice(corralAt + 1), {}, empty);
    assert.ok(resolved.appModule, 'an app module is given');
    return resolved.settings;
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

const kubernetesBytes = (quantity: string) => {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  assert.ok(match, `memory quantity ${quantity}`);
  const units: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, '': 1 };
  return Number(match![1]) * units[match![2] ?? ''];
};

test('the YAML reader takes what the manifests use and refuses what it does not know', () => {
  assert.equal(parseYamlDocuments('a: 1\nb:\n  - x\n  - "y # z"\n  - k: v\n    l: w # note\nc: \'q\'\n---\nd: true\n'), [
    { a: 1, b: ['x', 'y # z', { k: 'v', l: 'w' }], c: 'q' },
    { d: true },
  ]);
  assert.throws(() => parseYamlDocuments('a: [1, 2]\n'), /beyond the YAML/);
  assert.throws(() => parseYamlDocuments('a: 1\na: 2\n'), /given twice/);
});

test('examples/kubernetes/deployment.yaml: probes, ports, annotations, grace period and memory limit match corral\'s settings', async () => {
  const documents = parseYamlDocuments(read('examples/kubernetes/deployment.yaml')) as Json[];
  const deployment = documents.find((document) => document.kind === 'Deployment');
  const service = documents.find((document) => document.kind === 'Service');
  assert.ok(deployment && service, 'a Deployment and a Service');
  assert.equal(deployment.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 }, 'a new pod is ready before an old one goes');
  const pod = deployment.spec.template;
  const [container] = pod.spec.containers;
  const settings = await settingsOf(container.args);
  const portNamed = (name: string | number) =>
    typeof name === 'number' ? name : container.ports.find((port: Json) => port.name === name)?.containerPort;

  // Probes: the health endpoint's own port and paths.
  assert.ok(settings.healthBind, '--health-bind is set');
  const health = parseHealthBind(settings.healthBind!);
  assert.is(health.host, '0.0.0.0', 'the kubelet reaches the health endpoint from outside the pod');
  assert.is(container.readinessProbe.httpGet.path, READINESS_PATH);
  assert.is(container.livenessProbe.httpGet.path, LIVENESS_PATH);
  assert.is(container.startupProbe.httpGet.path, LIVENESS_PATH);
  for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) assert.is(portNamed(probe.httpGet.port), health.port);

  // Readiness fails within the drain delay, so endpoints drop the pod before it stops accepting.
  const notReadyWithin = container.readinessProbe.periodSeconds * container.readinessProbe.failureThreshold;
  assert.ok(notReadyWithin < settings.drainDelay, `readiness noticed within ${notReadyWithin} s, inside the ${settings.drainDelay} s drain delay`);

  // The app's port is the Service's target.
  const app = /:(\d+)$/.exec(settings.bind[0])![1];
  assert.is(portNamed(service.spec.ports[0].targetPort), Number(app));

  // Prometheus scrapes --metrics-bind.
  const metrics = parseMetricsBind(settings.metricsBind!);
  const annotations = pod.metadata.annotations;
  assert.is(annotations['prometheus.io/scrape'], 'true');
  assert.is(Number(annotations['prometheus.io/port']), metrics.port);
  assert.is(annotations['prometheus.io/path'], METRICS_PATH);
  assert.is(portNamed('metrics'), metrics.port);

  // KILL only if corral has not ended by itself.
  const stopTakes = settings.drainDelay + settings.gracefulTimeout + KILL_DELAY_SECONDS;
  assert.ok(pod.spec.terminationGracePeriodSeconds > stopTakes, `terminationGracePeriodSeconds ${pod.spec.terminationGracePeriodSeconds} > ${stopTakes}`);

  // The container's memory limit leaves room for every worker up to --max-memory, the arbiter and a replacement.
  const maxMemory = parseSize(settings.maxMemory!)!;
  const limit = kubernetesBytes(container.resources.limits.memory);
  const needed = settings.workers * maxMemory + ARBITER_AND_REPLACEMENT_BYTES;
  assert.ok(limit >= needed, `memory limit ${limit} ≥ ${settings.workers} × ${maxMemory} + ${ARBITER_AND_REPLACEMENT_BYTES}`);
  assert.ok(limit < needed * 1.5, 'the limit is matched to --max-memory, not arbitrary');
});

test('examples/Dockerfile: multi-stage, production dependencies, non-root, TERM, corral-init as PID 1, the same settings as the Deployment', async () => {
  const dockerfile = read('examples/Dockerfile').replace(/\\\n/g, ' ');
  const instructions = dockerfile.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
  const all = (name: string) => instructions.filter((line) => line.startsWith(`${name} `)).map((line) => line.slice(name.length + 1).trim());
  assert.ok(all('FROM').length >= 2, 'multi-stage');
  assert.ok(all('RUN').some((line) => /npm ci --omit=dev/.test(line)));
  const [user] = all('USER');
  assert.ok(user && user !== 'root' && user !== '0', `runs as ${user}`);
  assert.equal(all('STOPSIGNAL'), ['SIGTERM']);
  assert.equal(JSON.parse(all('ENTRYPOINT')[0]), ['node_modules/.bin/corral-init']);
  const command = JSON.parse(all('CMD')[0]) as string[];
  const image = await settingsOf(command);
  const deployment = (parseYamlDocuments(read('examples/kubernetes/deployment.yaml')) as Json[]).find((document) => document.kind === 'Deployment');
  const kubernetes = await settingsOf(deployment.spec.template.spec.containers[0].args);
  for (const key of ['bind', 'healthBind', 'metricsBind', 'drainDelay', 'gracefulTimeout', 'maxMemory', 'workers'] as const) {
    assert.equal(image[key], kubernetes[key], `${key} is the same in the image and the Deployment`);
  }
  const exposed = all('EXPOSE')[0].split(/\s+/).map(Number).sort();
  const ports = [image.bind[0], image.healthBind!, image.metricsBind!].map((address) => Number(/:(\d+)$/.exec(address)![1])).sort();
  assert.equal(exposed, ports);
  // `COPY . .` after the dependencies: the .dockerignore beside it keeps the host's node_modules from replacing them.
  const ignored = read('examples/.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  assert.ok(all('COPY').includes('. .'), 'the app is copied whole');
  assert.ok(ignored.includes('node_modules'), 'examples/.dockerignore leaves node_modules out');
});

test.run();
