// The request headers an app in a thread sees. The main thread has already read
// the body whole (undoing any chunked framing), so the framing headers are
// replaced by the body's real length.
import type { RequestTask } from './thread-messages.js';

const isFraming = (lowerName: string) => lowerName === 'transfer-encoding' || lowerName === 'content-length';

/** Calls `each` with every header name (lower case) and value, in the order the client sent them. */
export function forEachRequestHeader(task: RequestTask, each: (name: string, value: string) => void): void {
  const raw = task.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index].toLowerCase();
    if (!isFraming(name)) each(name, raw[index + 1]);
  }
  if (task.body) each('content-length', String(task.body.byteLength));
}
