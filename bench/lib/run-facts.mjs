// What every bench records about its run, reads from its environment, and the deadline that bounds it.
import os from 'node:os';

/** The machine and the moment: other work on the box skews every figure, so how busy it was is kept too. */
export const machineFacts = () => ({
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
  loadAvg: os.loadavg(),
});

/** A hard upper bound on the whole run, whatever hangs: exiting runs the cleanup hook, which kills everything. */
export function abortAfter(budgetSec, log) {
  setTimeout(() => {
    log(`aborting: exceeded the ${budgetSec} s time budget`);
    process.exit(1);
  }, budgetSec * 1000).unref();
}

/** A count from the environment (BENCH_SECONDS …): a positive integer, or the fallback when unset. */
export function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${name} must be a positive integer, got "${raw}"`);
    process.exit(2);
  }
  return value;
}
