// Every error corral raises on purpose has a stable code and a message that
// says what to do next; the CLI prints the message, never a bare stack.
export type CorralErrorCode =
  | 'CORRAL_ERR_USAGE'
  | 'CORRAL_ERR_SETTING'
  | 'CORRAL_ERR_CONFIG'
  | 'CORRAL_ERR_UNKNOWN_KIND'
  | 'CORRAL_ERR_BIND'
  | 'CORRAL_ERR_APP_NOT_FOUND'
  | 'CORRAL_ERR_APP_EXPORT'
  | 'CORRAL_ERR_APP_IMPORT'
  | 'CORRAL_ERR_APP_SHAPE'
  | 'CORRAL_ERR_IPC_FRAME_TOO_LARGE'
  | 'CORRAL_ERR_IPC_BAD_FRAME'
  | 'CORRAL_ERR_HALTED'
  | 'CORRAL_ERR_STOPPED'
  | 'CORRAL_ERR_ARGUMENT'
  | 'CORRAL_ERR_CTL'
  | 'CORRAL_ERR_UNSAFE_PATH'
  | 'CORRAL_ERR_INVALID_EARLY_HINTS'
  | 'CORRAL_ERR_EARLY_HINTS_TOO_LATE'
  | DirtyErrorCode;

/** Why a dirty call (dirty.execute / dirty.stream) failed. */
export type DirtyErrorCode =
  | 'CORRAL_ERR_DIRTY_UNAVAILABLE'
  | 'CORRAL_ERR_DIRTY_TOO_LARGE'
  | 'CORRAL_ERR_DIRTY_TIMEOUT'
  | 'CORRAL_ERR_DIRTY_CRASHED'
  | 'CORRAL_ERR_DIRTY_QUEUE_FULL'
  | 'CORRAL_ERR_DIRTY_NO_FUNCTION'
  | 'CORRAL_ERR_DIRTY_FAILED';

/** Marks corral's errors, whichever copy of this module made them. */
const CORRAL_ERROR = Symbol.for('corral.error');

export class CorralError extends Error {
  readonly code: CorralErrorCode;

  /**
   * This module may be loaded twice in one process: the CLI runs a bundled copy, and the app imports the package's
   * own. `instanceof` holds across the copies: any of corral's errors is a CorralError, and one of a subclass is
   * known by its name (each constructor sets it).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || (value as { [CORRAL_ERROR]?: boolean })[CORRAL_ERROR] !== true) return false;
    return this === CorralError || (value as Error).name === this.name;
  }

  constructor(code: CorralErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorralError';
    this.code = code;
    Object.defineProperty(this, CORRAL_ERROR, { value: true });
  }
}

/** A command line or setting the user can fix; exits with status 2 like other CLIs' usage errors. */
export class UsageError extends CorralError {
  constructor(message: string) {
    super('CORRAL_ERR_USAGE', message);
    this.name = 'UsageError';
  }
}

export class SettingError extends CorralError {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super('CORRAL_ERR_SETTING', message);
    this.name = 'SettingError';
    this.setting = setting;
  }
}

/** A config file that is missing, broken, or sets something wrong; exits with status 1. */
export class ConfigError extends CorralError {
  readonly file: string;
  readonly key: string | undefined;

  constructor(file: string, key: string | undefined, message: string) {
    super('CORRAL_ERR_CONFIG', message);
    this.name = 'ConfigError';
    this.file = file;
    this.key = key;
  }
}

/** The app could not be loaded; the worker exits with 4 and the arbiter halts. */
export class AppLoadError extends CorralError {
  constructor(
    code: 'CORRAL_ERR_APP_NOT_FOUND' | 'CORRAL_ERR_APP_EXPORT' | 'CORRAL_ERR_APP_IMPORT' | 'CORRAL_ERR_APP_SHAPE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'AppLoadError';
  }
}

export class ProtocolError extends CorralError {
  constructor(code: 'CORRAL_ERR_IPC_FRAME_TOO_LARGE' | 'CORRAL_ERR_IPC_BAD_FRAME', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProtocolError';
  }
}

/** A dirty call that failed: the code says why (the function threw, timed out, its process crashed …). */
export class DirtyError extends CorralError {
  declare readonly code: DirtyErrorCode;

  constructor(code: DirtyErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DirtyError';
  }
}

export const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
