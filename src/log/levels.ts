// Error-log levels, least to most severe, as gunicorn names them. The type is
// the machines' own, so log actions in the charts and the logger agree.
import type { LogLevel } from '../../machines/worker-handle.js';

export type { LogLevel };

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical'];
