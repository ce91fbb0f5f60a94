// Every setting corral has, defined once. Flags, --help, defaults and the
// validation messages are all derived from this table.
import { LOG_LEVELS } from '../log/logger.js';

export type Env = Record<string, string | undefined>;

interface BaseSpec {
  /** camelCase name used in code (and config files). */
  name: string;
  /** Long flag without the dashes, kebab-case. */
  flag: string;
  short?: string;
  metavar?: string;
  help: string;
  /** The environment variable that supplies the default, if any. */
  env?: string;
  section: 'server' | 'worker' | 'logging';
}

export interface NumberSpec extends BaseSpec {
  type: 'int' | 'number';
  default: number;
  min?: number;
  max?: number;
}
export interface StringSpec extends BaseSpec {
  type: 'string';
  default: string;
  choices?: readonly string[];
}
export interface ListSpec extends BaseSpec {
  type: 'list';
  default: readonly string[];
}

export type SettingSpec = NumberSpec | StringSpec | ListSpec;

export const settingsSchema = [
  {
    name: 'bind',
    flag: 'bind',
    short: 'b',
    type: 'list',
    default: ['127.0.0.1:8000'],
    metavar: 'ADDRESS',
    section: 'server',
    help: 'Socket to bind: HOST:PORT, [IPV6]:PORT, unix:PATH or fd://FD. Repeat to bind several. Port 0 picks a free port.',
  },
  {
    name: 'backlog',
    flag: 'backlog',
    type: 'int',
    default: 2048,
    min: 1,
    metavar: 'INT',
    section: 'server',
    help: 'Maximum number of pending connections.',
  },
  {
    name: 'workers',
    flag: 'workers',
    short: 'w',
    type: 'int',
    default: 1,
    min: 1,
    env: 'WEB_CONCURRENCY',
    metavar: 'INT',
    section: 'worker',
    help: 'Number of worker processes.',
  },
  {
    name: 'workerClass',
    flag: 'worker-class',
    short: 'k',
    type: 'string',
    default: 'async',
    metavar: 'KIND',
    section: 'worker',
    help: 'Worker kind. async serves many connections per process on the event loop.',
  },
  {
    name: 'timeout',
    flag: 'timeout',
    short: 't',
    type: 'number',
    default: 30,
    min: 0,
    metavar: 'SECONDS',
    section: 'worker',
    help: 'Workers silent (no heartbeat) for this long are aborted and replaced. 0 disables.',
  },
  {
    name: 'gracefulTimeout',
    flag: 'graceful-timeout',
    type: 'number',
    default: 30,
    min: 0,
    metavar: 'SECONDS',
    section: 'worker',
    help: 'How long a stopping worker may finish its in-flight requests before it is killed.',
  },
  {
    name: 'keepAlive',
    flag: 'keep-alive',
    type: 'number',
    default: 2,
    min: 0,
    metavar: 'SECONDS',
    section: 'worker',
    help: 'How long an idle keep-alive connection is held open. 0 closes every connection after its response.',
  },
  {
    name: 'logLevel',
    flag: 'log-level',
    type: 'string',
    default: 'info',
    choices: LOG_LEVELS,
    metavar: 'LEVEL',
    section: 'logging',
    help: 'Granularity of error log output.',
  },
] as const satisfies readonly SettingSpec[];

type SpecValue<S> = S extends { type: 'list' } ? string[] : S extends { type: 'int' | 'number' } ? number : string;

/** The fully resolved settings. */
export type Settings = { [S in (typeof settingsSchema)[number] as S['name']]: SpecValue<S> };
