// A fire-and-forget StatsD client over UDP. Lines are batched into packets a
// few times a second; nothing here throws into the caller, and a lost packet
// is only a lost sample.
import dgram from 'node:dgram';
import { type ResolvedStatsdAddress, resolveStatsdAddress } from './statsd-address.js';
import { type StatsdType, formatStatsdLine, normalisePrefix, tagSuffix } from './statsd-line.js';

/** Fits one Ethernet frame with room for IP/UDP headers, as StatsD agents advise. */
const MAX_PACKET_BYTES = 1432;
const FLUSH_INTERVAL_MS = 100;
/** What is kept while the address is still being resolved; more is dropped. */
const MAX_QUEUED_BYTES = 64 * 1024;
/** How long close() waits for an address still being resolved, so an exit is never held up for long. */
const CLOSE_RESOLVE_WAIT_MS = 1000;

export interface StatsdOptions {
  /** `--statsd-host`, HOST[:PORT]. */
  host: string;
  prefix: string;
  /** `--dogstatsd-tags`, `k:v,k2:v2`. */
  tags: string;
}

export interface StatsdClient {
  increment(name: string, by?: number): void;
  /** A duration in milliseconds. */
  timing(name: string, ms: number): void;
  gauge(name: string, value: number): void;
  /** Sends what is queued, then closes the socket. */
  close(): Promise<void>;
}

/** Packs lines into as few packets as fit, one line per packet at worst. */
export function packLines(lines: readonly string[], maxBytes = MAX_PACKET_BYTES): string[] {
  const packets: string[] = [];
  let packet = '';
  let packetBytes = 0;
  for (const line of lines) {
    const lineBytes = Buffer.byteLength(line);
    if (packet && packetBytes + 1 + lineBytes > maxBytes) {
      packets.push(packet);
      packet = '';
    }
    packetBytes = packet ? packetBytes + 1 + lineBytes : lineBytes;
    packet = packet ? `${packet}\n${line}` : line;
  }
  if (packet) packets.push(packet);
  return packets;
}

export function createStatsdClient({ host, prefix, tags }: StatsdOptions): StatsdClient {
  const namePrefix = normalisePrefix(prefix);
  const suffix = tagSuffix(tags);
  let target: ResolvedStatsdAddress | undefined;
  let socket: dgram.Socket | undefined;
  let unresolvable = false;
  let closed = false;
  let abandoned = false;
  let queued: string[] = [];
  let queuedBytes = 0;
  let timer: NodeJS.Timeout | undefined;

  /** Sends everything queued; `done` runs once the last packet has left (or could not). */
  const flush = (done?: () => void) => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const packets = socket && target ? packLines(queued) : [];
    queued = [];
    queuedBytes = 0;
    if (packets.length === 0) return done?.();
    let pending = packets.length;
    const sent = () => {
      pending -= 1;
      if (pending === 0) done?.();
    };
    for (const packet of packets) {
      try {
        socket!.send(packet, target!.port, target!.address, sent);
      } catch {
        sent();
      }
    }
  };

  const resolving = resolveStatsdAddress(host).then(
    (address) => {
      // close() gave up waiting for the address: what was queued has nowhere to go.
      if (abandoned) return;
      target = address;
      socket = dgram.createSocket(address.family === 6 ? 'udp6' : 'udp4');
      // A missing agent may answer with ICMP errors; they are not the app's problem.
      socket.on('error', () => {});
      socket.unref();
      // Closing sends the queue itself, and waits for it.
      if (!closed) flush();
    },
    () => {
      // Checked at startup; if it stops resolving later, metrics are dropped rather than the server.
      unresolvable = true;
      queued = [];
    },
  );

  const enqueue = (name: string, value: number, type: StatsdType) => {
    if (closed || unresolvable) return;
    const line = formatStatsdLine(namePrefix, name, value, type, suffix);
    if (!target) {
      if (queuedBytes + line.length > MAX_QUEUED_BYTES) return;
    } else if (queuedBytes + line.length + 1 > MAX_PACKET_BYTES) flush();
    queued.push(line);
    queuedBytes += line.length + 1;
    if (target && !timer) {
      timer = setTimeout(flush, FLUSH_INTERVAL_MS);
      timer.unref();
    }
  };

  return {
    increment: (name, by = 1) => enqueue(name, by, 'c'),
    timing: (name, ms) => enqueue(name, ms, 'ms'),
    gauge: (name, value) => enqueue(name, value, 'g'),
    async close() {
      if (closed) return;
      closed = true;
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([resolving, new Promise((resolve) => (giveUp = setTimeout(resolve, CLOSE_RESOLVE_WAIT_MS)))]);
      clearTimeout(giveUp);
      abandoned = true;
      if (!socket) return;
      await new Promise<void>((resolve) => flush(resolve));
      socket.close();
    },
  };
}

/** The client `--statsd-host` asks for, or none. */
export const statsdFromSettings = (settings: { statsdHost: string | null; statsdPrefix: string; dogstatsdTags: string }) =>
  settings.statsdHost
    ? createStatsdClient({ host: settings.statsdHost, prefix: settings.statsdPrefix, tags: settings.dogstatsdTags })
    : undefined;
