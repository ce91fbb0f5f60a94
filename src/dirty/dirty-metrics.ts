// Per-function numbers of dirty calls, kept by the router: calls, failures by
// code, timeouts, and a duration histogram; rendered for Prometheus beside the pool's.
import { type RequestDurations, emptyDurations, recordDuration } from '../metrics/duration-histogram.js';
import { family, histogramSamples, sample } from '../metrics/prometheus.js';

export interface DirtyFunctionNumbers {
  calls: number;
  failures: number;
  timeouts: number;
  durations: RequestDurations;
}

export class DirtyCallMetrics {
  readonly byFunction = new Map<string, DirtyFunctionNumbers>();

  private of(name: string): DirtyFunctionNumbers {
    let numbers = this.byFunction.get(name);
    if (!numbers) this.byFunction.set(name, (numbers = { calls: 0, failures: 0, timeouts: 0, durations: emptyDurations() }));
    return numbers;
  }

  called(name: string) {
    this.of(name).calls += 1;
  }

  succeeded(name: string, seconds: number) {
    recordDuration(this.of(name).durations, seconds);
  }

  failed(name: string, code: string, seconds: number) {
    const numbers = this.of(name);
    numbers.failures += 1;
    if (code === 'CORRAL_ERR_DIRTY_TIMEOUT') numbers.timeouts += 1;
    recordDuration(numbers.durations, seconds);
  }

  /** Plain numbers for `corral ctl status`. */
  summary() {
    return Object.fromEntries([...this.byFunction].map(([name, { calls, failures, timeouts, durations }]) => [name, { calls, failures, timeouts, seconds: durations.sumSeconds }]));
  }

  prometheus(queueLength: number, processes: number): string {
    const entries = [...this.byFunction];
    const families = [
      family('corral_dirty_calls_total', 'counter', 'Dirty calls received, by function.', entries.map(([name, n]) => sample('corral_dirty_calls_total', n.calls, { function: name }))),
      family('corral_dirty_failures_total', 'counter', 'Dirty calls that failed (threw, timed out, crashed, refused), by function.', entries.map(([name, n]) => sample('corral_dirty_failures_total', n.failures, { function: name }))),
      family('corral_dirty_timeouts_total', 'counter', 'Dirty calls past their deadline, by function.', entries.map(([name, n]) => sample('corral_dirty_timeouts_total', n.timeouts, { function: name }))),
      family(
        'corral_dirty_call_duration_seconds',
        'histogram',
        'Time from a dirty call reaching the router to its answer (queue included), by function.',
        entries.flatMap(([name, n]) => histogramSamples('corral_dirty_call_duration_seconds', n.durations).map((line) => withLabel(line, name))),
      ),
      family('corral_dirty_queue_length', 'gauge', 'Dirty calls waiting for a free dirty process.', [sample('corral_dirty_queue_length', queueLength)]),
      family('corral_dirty_processes', 'gauge', 'Dirty processes, booting or serving.', [sample('corral_dirty_processes', processes)]),
    ];
    return `${families.join('\n')}\n`;
  }
}

/** Adds the function label to one histogram line (`name{le="1"} 3` or `name_sum 2`). */
function withLabel(line: string, name: string): string {
  const label = `function="${name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
  const space = line.lastIndexOf(' ');
  const head = line.slice(0, space);
  return head.endsWith('}') ? `${head.slice(0, -1)},${label}}${line.slice(space)}` : `${head}{${label}}${line.slice(space)}`;
}
