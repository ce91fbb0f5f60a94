// How few processes the dirty pool may have, apart from its chart: the control
// server checks a `corral ctl dirty-scale` request against it without building
// the dirty pool's and dirty process's charts (which every arbiter with a
// control socket would otherwise do as it starts, pool or not).

/** The fewest dirty processes `corral ctl dirty-scale` may leave: with none, every call would wait. */
export const MIN_DIRTY_WORKERS = 1;
export const acceptsDirtyWorkerCount = (workers: number) => Number.isInteger(workers) && workers >= MIN_DIRTY_WORKERS;
