// A log destination: stderr/stdout ('-') or a file opened for appending, written
// through an FdWriter (bounded memory, lines it cannot write dropped and
// counted, never a blocked event loop). Opening a file that cannot be written is
// a ConfigError up front; a reopen that fails later (USR1 after logrotate)
// keeps the old descriptor and says why, and never throws.
import { closeSync, openSync } from 'node:fs';
import { CorralError, describeError } from '../errors.js';
import { type DropReport, createDropReport } from './drop-report.js';
import { FdWriter } from './fd-writer.js';

/** What one log file may hold in memory waiting to be written; more is dropped. */
export const MAX_QUEUED_BYTES = 1024 * 1024;

export interface LogFile {
  write(text: string): void;
  /**
   * After logrotate renamed the file: open the path again (USR1). Lines
   * written before go to the old file, later ones to the new. When the path
   * cannot be opened, the old descriptor stays and the reason is returned.
   */
  reopen(): string | undefined;
  /** Best effort, synchronous, never retrying: for a process about to exit. */
  flush(): void;
  /** Resolves once what is queued is written, or after `deadlineMs`: the way out for a process that can wait. */
  drain(deadlineMs: number): Promise<void>;
  /** Writes out everything queued, then closes: the way out for a worker. */
  close(): Promise<void>;
}

export interface LogFileOptions {
  /** Which standard stream '-' means. */
  dash: 'stdout' | 'stderr';
  /** Write each text at once, synchronously, when the destination takes it (the error log); else asynchronously. */
  sync?: boolean;
  /** What the file is, for messages: 'error log', 'access log'. */
  role: string;
  /** Lines that will never be written (full disk, broken pipe, too much waiting): for metrics. */
  onDropped?: (lines: number) => void;
  /** Where dropped lines are told, at most once every few seconds; none: not told (still counted). */
  tellDrops?: (message: string) => void;
  /** Bytes waiting to be written beyond which lines are dropped. */
  maxQueuedBytes?: number;
}

const hintFor = (code: string | undefined) =>
  code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'permission denied' : undefined;

/** Opens (and closes) the file once, or tries `probe`, so a bad path fails with its reason before anything runs. */
export function assertWritable(path: string, role: string, settingFlag: string, probe = (file: string) => closeSync(openSync(file, 'a'))): void {
  try {
    probe(path);
  } catch (error) {
    const hint = hintFor((error as NodeJS.ErrnoException).code) ?? describeError(error);
    throw new CorralError('CORRAL_ERR_SETTING', `${settingFlag}: cannot open the ${role} ${path}: ${hint}. Choose a writable path.`);
  }
}

/** What to do about a reopen that failed, by its error code. */
function reopenAdvice(code: string | undefined): string {
  const again = 'then reopen the logs again (USR1 or `corral ctl reopen-logs`)';
  if (code === 'ENOENT') return `Create its directory, ${again}.`;
  if (code === 'EACCES' || code === 'EPERM') return `Make the file writable by this process's user (uid ${process.getuid?.() ?? '?'}), e.g. logrotate's \`create\` with that owner, ${again}.`;
  return `Fix the path, ${again}.`;
}

export function openLogFile(path: string, { dash, sync = false, role, onDropped, tellDrops, maxQueuedBytes = MAX_QUEUED_BYTES }: LogFileOptions): LogFile {
  const report: DropReport | undefined = tellDrops && createDropReport(role, tellDrops);
  const writerFor = (fd: number) =>
    new FdWriter(fd, {
      sync,
      maxQueuedBytes,
      owned: path !== '-',
      onDropped: (lines, cause) => {
        onDropped?.(lines);
        report?.dropped(lines, `${cause} (${path === '-' ? dash : path})`);
      },
    });
  let writer = writerFor(path === '-' ? (dash === 'stdout' ? 1 : 2) : openSync(path, 'a'));

  return {
    write: (text) => writer.write(text),
    reopen() {
      if (path === '-') return undefined;
      let fd: number;
      try {
        fd = openSync(path, 'a');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return `Cannot reopen the ${role} ${path}: ${(error as Error).message}; still writing to the file opened before. ${reopenAdvice(code)}`;
      }
      // The old writer finishes what it holds into the old file, in the background, then closes it.
      const old = writer;
      writer = writerFor(fd);
      void old.end();
      return undefined;
    },
    flush: () => {
      writer.flushSync();
      report?.flush();
    },
    async drain(deadlineMs) {
      await writer.drain(deadlineMs);
      report?.flush();
    },
    async close() {
      await writer.end();
      report?.flush();
    },
  };
}
