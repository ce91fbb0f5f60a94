// A worker that stands back after an accept sleeps its whole thread, event loop
// included: the point is to give up the core, so a sibling process waiting for
// one takes the next connection (see spread-accepts.ts and the thread kind).
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms`. */
export const sleepThread = (ms: number): void => void Atomics.wait(pause, 0, 0, ms);
