// The last place a log's own trouble can go: this process's stderr, written
// straight to fd 2 (not through process.stderr, which --capture-output
// redirects into the very log file that is failing).
import { FdWriter } from './fd-writer.js';

let writer: FdWriter | undefined;

/** `text` ends with its newline. Nothing is told of lines stderr itself drops: there is nowhere left. */
export function writeToStandardError(text: string): void {
  writer ??= new FdWriter(2, { sync: true, maxQueuedBytes: 64 * 1024, owned: false, onDropped: () => {} });
  writer.write(text);
}
