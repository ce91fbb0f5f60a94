// What every bench records about its run, and the deadline that bounds it.
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
