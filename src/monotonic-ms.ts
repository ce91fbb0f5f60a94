// Milliseconds on the monotonic clock, for measuring spans as performance.now()
// does, without the `performance` global: touching it loads node:perf_hooks and
// its timing machinery, about 500 KB of every worker's memory.

/** A reading of the monotonic clock, in ms; only differences between readings mean anything. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
