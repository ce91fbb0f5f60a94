// The dirty module: loaded once per dirty process (not once per HTTP worker).
// setup() builds a large index — a stand-in for a model or a dictionary — and
// every exported function can then use it. Run by `corral --dirty-app`.
import { createHash } from 'node:crypto';

let index;

/** Runs once per dirty process, before it takes any call. */
export function setup() {
  const entries = Number(process.env.DIRTY_EXAMPLE_ENTRIES ?? 400_000);
  index = new Map();
  // ~100 bytes of value per key: a few tens of MB held once.
  for (let i = 0; i < entries; i++) index.set(`key-${i}`, `value-${i}-${'x'.repeat(80)}`);
}

/** A query against what setup() loaded. */
export function lookup(key) {
  return { key, value: index.get(key) ?? null, size: index.size };
}

/** Who answers, and what it holds: its pid and resident memory. */
export function info() {
  return { pid: process.pid, rss: process.memoryUsage().rss, entries: index.size };
}

/** CPU work that blocks this process's event loop for `ms` (not the HTTP worker's). */
export function block(ms) {
  const until = Date.now() + ms;
  let spins = 0;
  while (Date.now() < until) spins++;
  return { blockedMs: ms, spins: spins > 0 };
}

/** `ms` of CPU work, hashing: the bench's per-request work. */
export function work(ms) {
  const until = performance.now() + ms;
  let digest = Buffer.alloc(32);
  while (performance.now() < until) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex').slice(0, 16);
}

/** Async is fine: awaited in the dirty process. */
export async function sleep(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { slept: ms };
}

/** Structured data and binary cross as msgpack, both ways. */
export function echo(value) {
  return value;
}

/** A function that takes its process down: the call rejects with CORRAL_ERR_DIRTY_CRASHED, the process is replaced. */
export function crash() {
  process.exit(70);
}

/** Throws: the call rejects with CORRAL_ERR_DIRTY_FAILED, the process stays. */
export function fail(message) {
  throw new Error(message);
}

/** A result of `bytes` bytes (to see --dirty-max-message). */
export function blob(bytes) {
  return Buffer.alloc(bytes, 1);
}

/** A generator: dirty.stream() yields its chunks as they come. */
export async function* count(to, everyMs = 0) {
  for (let n = 1; n <= to; n++) {
    if (everyMs) await new Promise((resolve) => setTimeout(resolve, everyMs));
    yield { n, pid: process.pid };
  }
}
