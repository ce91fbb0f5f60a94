// The access log: one line per finished request, in gunicorn's format, written
// in batches to a file or stdout ('-'), reopened on USR1 and flushed on exit.
import type { ServerResponse } from 'node:http';
import type { Settings } from '../config/schema.js';
import type { RequestObserver } from '../kinds/contract.js';
import { compileAccessLogFormat } from './access-log-format.js';
import { createLineBatch } from './line-batch.js';
import { openLogFile } from './log-file.js';
import { countResponseBodyBytes, responseBodyBytes } from './response-body-bytes.js';

/** Batch size: some hundreds of lines per write under load; each write is a system call. */
const BATCH_BYTES = 32 * 1024;
/** On a quiet server a line shows up in the file within this long. */
const BATCH_DELAY_MS = 200;

export interface AccessLog {
  observer: RequestObserver;
  /** After logrotate moved the file: earlier lines go to the old file, later ones to the new. */
  reopen(): void;
  flush(): void;
}

/** undefined when the access log is off (`accesslog` unset). */
export function createAccessLog(settings: Pick<Settings, 'accesslog' | 'accessLogFormat'>): AccessLog | undefined {
  if (settings.accesslog === null) return undefined;
  const format = compileAccessLogFormat(settings.accessLogFormat);
  // Only the work some atom needs is done per request.
  const uses = (...atoms: string[]) => atoms.some((atom) => format.atoms.includes(atom));
  const countsBytes = uses('b', 'B');
  const timesRequests = uses('T', 'D', 'M', 'L');
  const datesRequests = uses('t');
  if (countsBytes) countResponseBodyBytes();
  const file = openLogFile(settings.accesslog, { dash: 'stdout', role: 'access log' });
  const batch = createLineBatch(file, { maxBytes: BATCH_BYTES, maxDelayMs: BATCH_DELAY_MS });

  const observer: RequestObserver = {
    finished(req, res: ServerResponse, startedAt) {
      const entry = {
        req,
        res,
        bodyBytes: countsBytes ? responseBodyBytes(res) : 0,
        durationNs: timesRequests ? process.hrtime.bigint() - startedAt : 0n,
        finishedAt: datesRequests ? Date.now() : 0,
      };
      batch.write(`${format(entry)}\n`);
    },
  };
  return {
    observer,
    reopen() {
      batch.flush();
      file.reopen();
    },
    // Written straight to the file, nothing is left in a buffer below; an fsync here would only slow exits.
    flush: () => batch.flush(),
  };
}
