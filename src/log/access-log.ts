// The access log: one line per finished request, in gunicorn's format or JSON, written
// in batches to a file or stdout ('-'), reopened on USR1 and written out on exit.
import type { ServerResponse } from 'node:http';
import type { Settings } from '../config/schema.js';
import type { RequestObserver } from '../kinds/contract.js';
import { assignRequestId } from '../http/request-id.js';
import { type AccessLogFormatter, REQUEST_ID_ATOM, compileAccessLogFormat } from './access-log-format.js';
import { JSON_ACCESS_LOG_FORMAT, compileJsonAccessLog } from './access-log-json.js';
import { createLineBatch } from './line-batch.js';
import { openLogFile } from './log-file.js';
import type { Logger } from './logger.js';
import { countResponseBodyBytes, responseBodyBytes } from './response-body-bytes.js';

/** Batch size: some hundreds of lines per write under load; each write is a system call. */
const BATCH_BYTES = 32 * 1024;
/** On a quiet server a line shows up in the file within this long. */
const BATCH_DELAY_MS = 200;
/** How long an exiting worker waits for its last lines to reach the file. */
const CLOSE_DEADLINE_MS = 2000;

export interface AccessLog {
  observer: RequestObserver;
  /** After logrotate moved the file: earlier lines go to the old file, later ones to the new; a failure is logged, the old file kept. */
  reopen(): void;
  /** Best effort, synchronous: for a process about to die (SIGABRT). */
  flush(): void;
  /** Writes out every line, queued or being written, and closes the file: for a worker on its way out. */
  close(): Promise<void>;
}

export interface AccessLogOptions {
  /** Where a failed reopen and dropped lines are told: the error log. */
  logger?: Pick<Logger, 'error' | 'logFileError'>;
  /** Called with the number of lines that could not be written (a full disk), e.g. for metrics. */
  onDropped?: (lines: number) => void;
}

/** `json`, or gunicorn's %-format. */
export const accessLogFormatter = (format: string): AccessLogFormatter =>
  format.trim() === JSON_ACCESS_LOG_FORMAT ? compileJsonAccessLog() : compileAccessLogFormat(format);

/** undefined when the access log is off (`accesslog` unset). */
export function createAccessLog(settings: Pick<Settings, 'accesslog' | 'accessLogFormat'>, { logger, onDropped }: AccessLogOptions = {}): AccessLog | undefined {
  if (settings.accesslog === null) return undefined;
  const format = accessLogFormatter(settings.accessLogFormat);
  // Only the work some atom needs is done per request.
  const uses = (...atoms: string[]) => atoms.some((atom) => format.atoms.includes(atom));
  const countsBytes = uses('b', 'B');
  const timesRequests = uses('T', 'D', 'M', 'L');
  const datesRequests = uses('t');
  const assignsRequestIds = uses(REQUEST_ID_ATOM);
  if (countsBytes) countResponseBodyBytes();
  // Written asynchronously, so a slow or full disk never holds up requests; the batching is the line batch's.
  const tellDrops = logger && ((message: string) => logger.error(message));
  const file = openLogFile(settings.accesslog, { dash: 'stdout', role: 'access log', onDropped, tellDrops });
  const batch = createLineBatch(file, { maxBytes: BATCH_BYTES, maxDelayMs: BATCH_DELAY_MS });

  const observer: RequestObserver = {
    // Before the app runs, so that it sees the id and can pass it on.
    started: assignsRequestIds ? (req, res) => void assignRequestId(req, res) : undefined,
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
      // Whatever was logged before the signal goes to the renamed file: the old descriptor writes it out, then closes.
      batch.flush();
      const failure = file.reopen();
      if (failure !== undefined) logger?.logFileError(failure);
    },
    flush() {
      batch.flush();
      file.flush();
    },
    async close() {
      batch.flush();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_DEADLINE_MS)));
      await Promise.race([file.close(), deadline]);
      clearTimeout(timer);
    },
  };
}
