// A log destination: stderr/stdout ('-') or a file opened for appending, written
// through sonic-boom (pino's destination: buffered writes, reopen for logrotate,
// flush on exit). Opening a file that cannot be written is a ConfigError up front.
import { closeSync, openSync } from 'node:fs';
import sonicBoom from 'sonic-boom';
import { CorralError, describeError } from '../errors.js';

// sonic-boom is CommonJS; its types describe the default export as the module namespace.
const SonicBoom = (sonicBoom as unknown as { SonicBoom: typeof import('sonic-boom').SonicBoom }).SonicBoom;

export interface LogFile {
  write(text: string): void;
  /** After logrotate renamed the file: open the path again (USR1). */
  reopen(): void;
  flush(): void;
  /** Writes out everything queued, in-flight asynchronous writes included, then closes: the way out for buffered files. */
  close(): Promise<void>;
}

export interface LogFileOptions {
  /** Which standard stream '-' means. */
  dash: 'stdout' | 'stderr';
  /** Buffer this many bytes before writing (access logs); 0 writes each line at once. */
  bufferBytes?: number;
  /** What the file is, for messages: 'error log', 'access log'. */
  role: string;
}

/** Opens (and closes) the file once, so a bad path fails with its reason before anything runs. */
export function assertWritable(path: string, role: string, settingFlag: string): void {
  try {
    closeSync(openSync(path, 'a'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'permission denied' : describeError(error);
    throw new CorralError('CORRAL_ERR_SETTING', `${settingFlag}: cannot open the ${role} ${path}: ${hint}. Choose a writable path.`);
  }
}

export function openLogFile(path: string, { dash, bufferBytes = 0 }: LogFileOptions): LogFile {
  const sync = bufferBytes === 0;
  const boom =
    path === '-'
      ? new SonicBoom({ fd: dash === 'stdout' ? 1 : 2, sync })
      : new SonicBoom({ dest: path, append: true, sync, minLength: bufferBytes });
  // A full disk or a vanished directory must not crash the server over a log line.
  boom.on('error', () => {});
  return {
    write: (text) => void boom.write(text),
    reopen: () => {
      if (path !== '-') boom.reopen();
    },
    flush: () => {
      try {
        boom.flushSync();
      } catch {
        // nothing buffered, or the destination is gone
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        boom.once('close', () => resolve());
        try {
          boom.end();
        } catch {
          resolve(); // already closed
        }
      }),
  };
}
