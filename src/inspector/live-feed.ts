// What the inspector shows, kept from XState's inspection API: the arbiter
// actor is created with `inspect: feed.inspect`, so every snapshot and event of
// the arbiter and of each worker handle (its mirror of a worker process) passes
// through here. Subscribers get the whole picture, then changes, at most every
// PUBLISH_MS.
import type { InspectionEvent } from 'xstate';
import type { WorkerExit } from '../../machines/worker-handle.js';
import { HEADLINE_WINDOW_MS, type RatePoint, SERIES_SPAN_MS, SERIES_STEP_MS, createRequestRates } from './request-rates.js';
import { type TakenTransition, describeTaken, stateText } from './statechart-model.js';

const PUBLISH_MS = 100;
/** Lines of the event log kept for a page that connects later. */
const LOG_LINES = 200;
/** Workers that have exited, kept on the page for a while so their end can be seen. */
const GONE_KEPT = 12;

export interface FeedWorker {
  id: string;
  pid: number | undefined;
  /** The worker handle's snapshot value. */
  value: unknown;
  served: number;
  inFlight: number;
  lagMs: number;
  rss: number;
  /** When the arbiter first saw it (ms since the epoch). */
  startedAt: number;
  /** Which configuration it runs: bumped by each reload. */
  generation: number | undefined;
  /** Responses with a 4xx and a 5xx status since it started. */
  client: number;
  server: number;
  /** Connections it closed unserved (at --worker-connections, out of descriptors). */
  dropped: number;
  /** Over the headline window: requests per second, % of one core, latency percentiles (ms). */
  rate: number;
  cpuPercent?: number;
  p50Ms?: number;
  p99Ms?: number;
  gone: boolean;
  lastTransition?: Transition;
}

export interface FeedDirtyPool {
  value: unknown;
  workers: number;
  generation: number;
  lastTransition?: Transition;
  processes: { id: string; pid: number | undefined; value: unknown; running: string | undefined; gone: boolean }[];
}

/** The last change of state of a chart, and the event that made it. */
export interface Transition {
  at: number;
  event: string;
  /** Snapshot values before and after. */
  from: unknown;
  to: unknown;
  /** The transitions taken in that step, as the chart's edges name them (the page marks those arrows). */
  edges?: TakenEdge[];
}

export interface TakenEdge {
  from: string;
  to: string[];
  label: string;
}

export interface FeedLine {
  at: number;
  text: string;
  /** The moment of history kept for it, while it is kept. */
  seq?: number;
}

/** The picture at one moment of the past, for the page to replay. */
export interface HistoryFrame {
  seq: number;
  text: string;
  picture: FeedPicture;
}

export interface FeedPicture {
  at: number;
  arbiter: {
    pid: number;
    value: unknown;
    workers: number;
    generation: number;
    listeners: string[];
    lastTransition?: Transition;
    /** The arbiter's own % of one core, over the last clock step. */
    cpuPercent?: number;
    /** Workers that exited without being asked, by how they ended. */
    restarts: Record<string, number>;
    /** Connections the arbiter closed unserved, by why (dispatching kinds only). */
    refused?: { silent: number; shed: number; stopping: number };
  };
  workers: FeedWorker[];
  /** The dirty pool (--dirty-app), when there is one: its chart's state and its processes. */
  dirty?: FeedDirtyPool;
  /** Requests served by every worker so far, exited ones included. */
  served: number;
  rates: {
    /** Requests per second over the last `windowMs`. */
    now: number;
    windowMs: number;
    /** One point every `stepMs`, each the rate over that step, spanning `spanMs`. */
    series: RatePoint[];
    stepMs: number;
    spanMs: number;
  };
  log: FeedLine[];
}

export interface LiveFeed {
  inspect(event: InspectionEvent): void;
  picture(): FeedPicture;
  /** The moment `seq` (or the nearest one still kept), and the span kept; undefined when none is. */
  history(seq: number): { frame: HistoryFrame; first: number; last: number } | undefined;
  /** Called with the picture now and after every change (throttled); returns an unsubscribe. */
  subscribe(listener: (picture: FeedPicture) => void): () => void;
  note(text: string): void;
  /** Moments kept from now on (a reload changed --inspector-history); the oldest beyond go at once. */
  keepHistory(moments: number): void;
  /** Where the arbiter's count of connections it refused is read, once a clock step. */
  countRefused(read: () => FeedPicture['arbiter']['refused']): void;
  close(): void;
}

interface Snapshot {
  value: unknown;
  status: string;
  context: Record<string, any>;
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** How a worker ended, in a word or two: what its restarts are counted by. */
function howItEnded(exit: WorkerExit): string {
  switch (exit.cause) {
    case 'timeout':
      return 'hung';
    case 'protocol':
      return 'protocol error';
    case 'bootFailed':
      return 'boot failure';
    default:
      return exit.signal ?? `exit code ${exit.exitCode ?? '?'}`;
  }
}

function describeExit(exit: WorkerExit): string {
  const status = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode ?? '?'}`;
  switch (exit.cause) {
    case 'stopped':
      return `stopped as asked (${status})`;
    case 'timeout':
      return `hung: no heartbeat within the timeout (${status})`;
    case 'protocol':
      return `stopped after a malformed message (${status})`;
    case 'bootFailed':
      return `could not boot${exit.bootError ? `: ${exit.bootError.message}` : ''} (${status})`;
    default:
      return exit.signal ? `was killed by ${exit.signal}` : `exited by itself with code ${exit.exitCode ?? '?'}`;
  }
}

export function createLiveFeed({ history: historyKept = 1000 }: { history?: number } = {}): LiveFeed {
  const arbiter: FeedPicture['arbiter'] = { pid: process.pid, value: 'booting' as unknown, workers: 0, generation: 0, listeners: [] as string[], restarts: {} };
  const generations = new Map<string, number>();
  const rates = createRequestRates();
  const workers = new Map<string, FeedWorker>();
  let dirty: FeedDirtyPool | undefined;
  const dirtyProcesses = new Map<string, FeedDirtyPool['processes'][number]>();
  const log: FeedLine[] = [];
  let servedByGone = 0;
  const listeners = new Set<(picture: FeedPicture) => void>();
  let timer: NodeJS.Timeout | undefined;

  // Bounded history: the oldest moments go first. Each is the picture without its log and rate series.
  const frames: HistoryFrame[] = [];
  let nextSeq = 1;
  const note = (text: string) => {
    const line: FeedLine = { at: Date.now(), text };
    if (historyKept > 0) {
      line.seq = nextSeq++;
      frames.push({ seq: line.seq, text, picture: picture(false) });
      if (frames.length > historyKept) frames.splice(0, frames.length - historyKept);
    }
    log.push(line);
    if (log.length > LOG_LINES) log.splice(0, log.length - LOG_LINES);
    changed();
  };
  const picture = (whole = true): FeedPicture => {
    const now = Date.now();
    const all = [...workers.values()].map((w) => (w.gone ? { ...w, rate: 0 } : { ...w, ...rates.worker(w.id, now, HEADLINE_WINDOW_MS) }));
    return {
      at: now,
      arbiter: { ...arbiter, restarts: { ...arbiter.restarts }, refused: arbiter.refused && { ...arbiter.refused } },
      workers: all,
      ...(dirty ? { dirty: { ...dirty, processes: [...dirtyProcesses.values()] } } : {}),
      served: servedByGone + all.filter((w) => !w.gone).reduce((sum, w) => sum + w.served, 0),
      rates: { now: rates.rate(now, HEADLINE_WINDOW_MS), windowMs: HEADLINE_WINDOW_MS, series: whole ? rates.series() : [], stepMs: SERIES_STEP_MS, spanMs: SERIES_SPAN_MS },
      log: whole ? [...log] : [],
    };
  };
  // The fixed clock of the rate chart; it also brings the page the new point.
  let cpuBefore = { at: Date.now(), usage: process.cpuUsage() };
  let readRefused: () => FeedPicture['arbiter']['refused'] = () => undefined;
  const clock = setInterval(() => {
    const now = Date.now();
    rates.sample(now);
    const usage = process.cpuUsage();
    const usedMicros = usage.user - cpuBefore.usage.user + (usage.system - cpuBefore.usage.system);
    arbiter.cpuPercent = now > cpuBefore.at ? (usedMicros / 1000 / (now - cpuBefore.at)) * 100 : undefined;
    cpuBefore = { at: now, usage };
    arbiter.refused = readRefused();
    changed();
  }, SERIES_STEP_MS);
  clock.unref();
  const publish = () => {
    timer = undefined;
    const now = picture();
    listeners.forEach((listener) => listener(now));
  };
  function changed() {
    if (!timer && listeners.size > 0) timer = setTimeout(publish, PUBLISH_MS);
  }

  // The transitions of the step under way, per actor: XState reports each microstep before the step's snapshot.
  const stepping = new WeakMap<object, TakenEdge[]>();
  const takenBy = (actor: object) => {
    const edges = stepping.get(actor) ?? [];
    stepping.delete(actor);
    return edges;
  };

  const onArbiter = (snapshot: Snapshot, event: { type: string }, edges: TakenEdge[]) => {
    const before = stateText(arbiter.value);
    if (!sameValue(arbiter.value, snapshot.value)) arbiter.lastTransition = { at: Date.now(), event: event.type, from: arbiter.value, to: snapshot.value, edges };
    arbiter.value = snapshot.value;
    arbiter.workers = snapshot.context.workers;
    arbiter.generation = snapshot.context.generation;
    arbiter.listeners = snapshot.context.listeners;
    for (const [id, info] of Object.entries((snapshot.context.workerInfo ?? {}) as Record<string, { generation: number }>)) generations.set(id, info.generation);
    const after = stateText(snapshot.value);
    if (after !== before) note(`arbiter ${after}`);
    changed();
  };

  const onHandle = (snapshot: Snapshot, event: { type: string }, edges: TakenEdge[]) => {
    const id = String(snapshot.context.id);
    const known = workers.get(id);
    const stats = snapshot.context.stats ?? {};
    const worker: FeedWorker = {
      id,
      pid: snapshot.context.pid,
      value: snapshot.value,
      served: stats.served ?? 0,
      inFlight: stats.inFlight ?? 0,
      lagMs: stats.lagMs ?? 0,
      rss: stats.rss ?? 0,
      startedAt: known?.startedAt ?? Date.now(),
      generation: generations.get(id) ?? known?.generation,
      client: stats.responses?.client ?? 0,
      server: stats.responses?.server ?? 0,
      dropped: stats.dropped ?? 0,
      rate: 0,
      gone: snapshot.status !== 'active',
      lastTransition: known && !sameValue(known.value, snapshot.value) ? { at: Date.now(), event: event.type, from: known.value, to: snapshot.value, edges } : known?.lastTransition,
    };
    workers.set(id, worker);
    // A worker starts from nothing: its first heartbeat's counts belong to the time since it was spawned.
    if (!known) rates.heartbeat(id, { served: 0 }, worker.startedAt);
    if (event.type === 'MSG.heartbeat') rates.heartbeat(id, stats, Date.now());
    if (worker.gone) rates.gone(id);
    const before = known ? stateText(known.value) : '';
    const after = stateText(snapshot.value);
    if (after !== before) note(`${id}${worker.pid ? ` (pid ${worker.pid})` : ''} ${after}`);
    if (worker.gone && !known?.gone) {
      servedByGone += worker.served;
      const gone = [...workers.values()].filter((w) => w.gone);
      for (const old of gone.slice(0, Math.max(0, gone.length - GONE_KEPT))) {
        workers.delete(old.id);
        generations.delete(old.id);
      }
    }
    changed();
  };

  const onDirtyPool = (snapshot: Snapshot, event: { type: string }, edges: TakenEdge[]) => {
    const before = dirty ? stateText(dirty.value) : '';
    const lastTransition = dirty && !sameValue(dirty.value, snapshot.value) ? { at: Date.now(), event: event.type, from: dirty.value, to: snapshot.value, edges } : dirty?.lastTransition;
    dirty = { value: snapshot.value, workers: snapshot.context.workers, generation: snapshot.context.generation, lastTransition, processes: [] };
    const after = stateText(snapshot.value);
    if (after !== before) note(`dirty pool ${after}`);
    changed();
  };

  const onDirtyProcess = (snapshot: Snapshot) => {
    const id = String(snapshot.context.id);
    const known = dirtyProcesses.get(id);
    const gone = snapshot.status !== 'active';
    const process = { id, pid: snapshot.context.pid, value: snapshot.value, running: snapshot.context.call?.name, gone };
    dirtyProcesses.set(id, process);
    const before = known ? stateText(known.value) : '';
    const after = stateText(snapshot.value);
    if (after !== before) note(`${id}${process.pid ? ` (pid ${process.pid})` : ''} ${after}`);
    if (gone) {
      const goneIds = [...dirtyProcesses.values()].filter((p) => p.gone).map((p) => p.id);
      for (const old of goneIds.slice(0, Math.max(0, goneIds.length - GONE_KEPT))) dirtyProcesses.delete(old);
    }
    changed();
  };

  const describeEvent = (event: { type: string; [key: string]: any }): string | undefined => {
    switch (event.type) {
      case 'SIGNAL':
        return `${event.signal}${event.by ? ` from ${event.by}` : ''}`;
      case 'SCALE':
        return `scale to ${event.workers} worker(s)`;
      case 'WORKER.EXITED': {
        const exit = event.exit as WorkerExit;
        if (exit.cause !== 'stopped') {
          const how = howItEnded(exit);
          arbiter.restarts[how] = (arbiter.restarts[how] ?? 0) + 1;
        }
        return `${exit.id} (pid ${exit.pid ?? '-'}) ${describeExit(exit)}`;
      }
      case 'WORKER.RECYCLE':
        return `${event.id} asks to be replaced: it ${event.reason}`;
      default:
        return undefined;
    }
  };

  return {
    inspect(inspection) {
      if (inspection.type === '@xstate.snapshot') {
        const machineId = (inspection.actorRef as { logic?: { id?: string } }).logic?.id;
        const snapshot = inspection.snapshot as unknown as Snapshot;
        if (!snapshot || typeof snapshot !== 'object' || !('value' in snapshot)) return;
        const event = (inspection.event ?? { type: '' }) as { type: string };
        if (machineId === 'arbiter') onArbiter(snapshot, event, takenBy(inspection.actorRef));
        else if (machineId === 'workerHandle') onHandle(snapshot, event, takenBy(inspection.actorRef));
        else if (machineId === 'dirtyPool') onDirtyPool(snapshot, event, takenBy(inspection.actorRef));
        else if (machineId === 'dirtyProcess') onDirtyProcess(snapshot);
      } else if (inspection.type === '@xstate.microstep') {
        const machineId = (inspection.actorRef as { logic?: { id?: string } }).logic?.id;
        if (machineId !== 'arbiter' && machineId !== 'workerHandle' && machineId !== 'dirtyPool') return;
        const taken = ((inspection as unknown as { _transitions?: TakenTransition[] })._transitions ?? []).filter((transition) => transition.target?.length);
        if (taken.length > 0) stepping.set(inspection.actorRef, [...(stepping.get(inspection.actorRef) ?? []), ...taken.map(describeTaken)]);
      } else if (inspection.type === '@xstate.event') {
        const target = (inspection.actorRef as { logic?: { id?: string } }).logic?.id;
        if (target !== 'arbiter') return;
        const text = describeEvent(inspection.event as { type: string });
        if (text) note(text);
      }
    },
    picture: () => picture(),
    history(seq) {
      if (frames.length === 0) return undefined;
      const first = frames[0].seq;
      const last = frames[frames.length - 1].seq;
      // Moments are numbered without gaps: the index is the distance from the oldest kept.
      const frame = frames[Math.min(Math.max(seq, first), last) - first];
      return { frame, first, last };
    },
    subscribe(listener) {
      listeners.add(listener);
      listener(picture());
      return () => listeners.delete(listener);
    },
    note,
    keepHistory(moments) {
      historyKept = moments;
      if (frames.length > moments) frames.splice(0, frames.length - moments);
    },
    countRefused(read) {
      readRefused = read;
      arbiter.refused = read();
    },
    close: () => clearInterval(clock),
  };
}
