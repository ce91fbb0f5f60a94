// Every setting corral has, defined once. CLI flags, --help, config-file keys,
// environment defaults, validation messages, --print-config and
// docs/settings.md are all derived from this table.
import { LOG_LEVELS } from '../log/levels.js';
import { parseAllowedAddress } from '../sockets/address-allow-list.js';
import { parseBindAddress } from '../sockets/bind-address.js';
import { parseSize } from './size.js';

export type Env = Record<string, string | undefined>;

export type Section = 'config' | 'server' | 'worker' | 'http' | 'proxy' | 'tls' | 'logging' | 'metrics' | 'process';

interface BaseSpec {
  /** camelCase: the config-file key and the name in code. */
  name: string;
  /** Long flag without the dashes, kebab-case. Absent for config-file-only settings. */
  flag?: string;
  /** Further long flags meaning the same (gunicorn's spellings). */
  aliases?: readonly string[];
  short?: string;
  metavar?: string;
  help: string;
  /** The environment variable that supplies the default, if any. */
  env?: string;
  section: Section;
  /** Only on the command line (not a config-file key): -c, --print-config, --check-config. */
  cliOnly?: boolean;
  /** What gunicorn calls it, for the docs. */
  gunicorn?: string;
}

export interface NumberSpec extends BaseSpec {
  type: 'int' | 'number';
  default: number;
  min?: number;
  max?: number;
}
export interface StringSpec extends BaseSpec {
  type: 'string';
  default: string | null;
  choices?: readonly string[];
  /** Checks the value; returns the problem, or undefined when it is fine. */
  check?: (value: string) => string | undefined;
}
export interface ListSpec extends BaseSpec {
  type: 'list';
  default: readonly string[];
  /** Checks one item; returns the problem, or undefined when it is fine. */
  item?: (value: string) => string | undefined;
  /** A string value holds several items separated by commas (gunicorn's `--forwarded-allow-ips a,b`). */
  commaSeparated?: boolean;
  /** A config file may give an object instead: each key: value pair becomes the item `KEY: value`. */
  headerObject?: boolean;
}
export interface BooleanSpec extends BaseSpec {
  type: 'boolean';
  default: boolean;
}

export type SettingSpec = NumberSpec | StringSpec | ListSpec | BooleanSpec;

const keyValue = (value: string) => (/^[A-Za-z_][A-Za-z0-9_]*=/.test(value) ? undefined : 'is not KEY=VALUE');

const ipOrCidr = (value: string) => (value === '*' || parseAllowedAddress(value) ? undefined : 'is not an IP address, a CIDR range (10.0.0.0/8) or *');

const headerValue = (value: string) => (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:\s*\S/.test(value) ? undefined : "is not 'HEADER: value'");

const bindAddress = (value: string) => {
  try {
    parseBindAddress(value);
    return undefined;
  } catch (error) {
    // The list check adds its own '-b/--bind: 'VALUE'' before and period after.
    return (error as Error).message.replace(/^-b\/--bind: '[^']*' /, '').replace(/\.$/, '');
  }
};

export const settingsSchema = [
  {
    name: 'config',
    flag: 'config',
    short: 'c',
    type: 'string',
    default: null,
    metavar: 'FILE',
    section: 'config',
    cliOnly: true,
    gunicorn: 'config',
    help: 'Config file: a .js, .mjs, .cjs or .json file exporting settings (or a function returning them); .ts, .mts or .cts with a TypeScript loader (see the README). Default: corral.config.{js,mjs,cjs,json,ts,mts,cts} in the working directory, if present.',
  },
  {
    name: 'printConfig',
    flag: 'print-config',
    type: 'boolean',
    default: false,
    section: 'config',
    cliOnly: true,
    gunicorn: 'print_config',
    help: 'Print the fully resolved settings and exit.',
  },
  {
    name: 'checkConfig',
    flag: 'check-config',
    type: 'boolean',
    default: false,
    section: 'config',
    cliOnly: true,
    gunicorn: 'check_config',
    help: 'Load the settings and the app, then exit: 0 if both are fine, 1 with the reason if not.',
  },
  {
    name: 'hookTimeout',
    flag: 'hook-timeout',
    type: 'number',
    default: 30,
    min: 0,
    metavar: 'SECONDS',
    section: 'config',
    help:
      'Seconds corral waits for a hook, or for the config file to load, before it logs that it did not finish and carries on (0: for ever). ' +
      "A worker's boot (sslContext, postFork, postWorkerInit, its config file) waits at most a quarter of --timeout on each. " +
      "The file's own hookTimeout cannot bound its loading: give it on the command line for that.",
  },
  {
    name: 'bind',
    flag: 'bind',
    short: 'b',
    type: 'list',
    default: ['127.0.0.1:8000'],
    item: bindAddress,
    metavar: 'ADDRESS',
    section: 'server',
    gunicorn: 'bind',
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
    gunicorn: 'backlog',
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
    gunicorn: 'workers',
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
    gunicorn: 'worker_class',
    help: 'Worker kind. async serves many connections per process on the event loop (gunicorn defaults to sync; for Node apps the event loop is the natural default).',
  },
  {
    name: 'threads',
    flag: 'threads',
    type: 'int',
    default: 1,
    min: 1,
    metavar: 'INT',
    section: 'worker',
    gunicorn: 'threads',
    help: 'Pool size for the thread kind: how many requests each worker runs at once, each in its own thread. A request still running after --timeout seconds is answered 503 and its thread replaced.',
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
    gunicorn: 'timeout',
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
    gunicorn: 'graceful_timeout',
    help: 'How long a stopping worker may finish its in-flight requests before it is killed.',
  },
  {
    name: 'drainDelay',
    flag: 'drain-delay',
    type: 'number',
    default: 0,
    min: 0,
    metavar: 'SECONDS',
    section: 'worker',
    help: 'On TERM, first report not ready (GET /readyz answers 503) and keep serving this long, so a load balancer or Kubernetes stops sending new connections; then drain. 0 drains at once.',
  },
  {
    name: 'requestTimeout',
    flag: 'request-timeout',
    type: 'number',
    default: 0,
    min: 0,
    metavar: 'SECONDS',
    section: 'worker',
    help: 'async kind: a request still running after this long is answered 503 (or its connection closed if its response has begun), logged and counted; the worker serves on. 0 disables.',
  },
  {
    name: 'keepAlive',
    flag: 'keep-alive',
    type: 'number',
    default: 2,
    min: 0,
    metavar: 'SECONDS',
    section: 'worker',
    gunicorn: 'keepalive',
    help: 'How long an idle keep-alive connection is held open (HTTP/2: a connection with no stream open, closed with GOAWAY). 0 closes every connection after its response.',
  },
  {
    name: 'workerConnections',
    flag: 'worker-connections',
    type: 'int',
    default: 0,
    min: 0,
    metavar: 'INT',
    section: 'worker',
    gunicorn: 'worker_connections',
    help: "Most simultaneous connections an async or thread worker holds; past it, new connections are closed at once and a warning (with a count, at most once a second) is logged. 0, the default, means what the file-descriptor limit allows: the soft RLIMIT_NOFILE (`ulimit -n`) minus a reserve for the worker's own files (64, or an eighth of the limit if more), at most 10000; where the limit cannot be read (it is read from /proc/self/limits, Linux only) 10000. A larger setting is held to what the limit affords, with a warning as the worker starts. gunicorn's default is 1000, sized for greenlets; an idle connection costs a Node worker a few KB. A worker that runs out of descriptors anyway (an app holding many files) cannot accept new connections until some are freed, and keeps heartbeating and serving the ones it has.",
  },
  {
    name: 'limitRequestLine',
    flag: 'limit-request-line',
    type: 'int',
    default: 4094,
    min: 0,
    max: 8 * 1024 * 1024,
    metavar: 'INT',
    section: 'http',
    gunicorn: 'limit_request_line',
    help: 'Longest request line (method, target and version, without the CRLF) in bytes; a longer one is answered 414. 0 means unlimited (the whole head is still capped, see --limit-request-field_size).',
  },
  {
    name: 'limitRequestFields',
    flag: 'limit-request-fields',
    type: 'int',
    default: 100,
    min: 1,
    max: 32768,
    metavar: 'INT',
    section: 'http',
    gunicorn: 'limit_request_fields',
    help: 'Most header fields in a request; more are answered 431.',
  },
  {
    name: 'limitRequestFieldSize',
    flag: 'limit-request-field_size',
    aliases: ['limit-request-field-size'],
    type: 'int',
    default: 8190,
    min: 0,
    max: 8 * 1024 * 1024,
    metavar: 'INT',
    section: 'http',
    gunicorn: 'limit_request_field_size',
    help: 'Longest header field line (`Name: value`, without the CRLF) in bytes; a longer one is answered 431. 0 means unlimited: then only the whole head is capped, at 8 MiB.',
  },
  {
    name: 'httpProtocols',
    flag: 'http-protocols',
    type: 'list',
    default: ['h1'],
    commaSeparated: true,
    item: (value) => (value === 'h1' || value === 'h2' ? undefined : 'is not h1 or h2'),
    metavar: 'PROTOCOLS',
    section: 'http',
    gunicorn: 'http_protocols',
    help: "The HTTP versions served, comma-separated: h1 (HTTP/1.x) and h2 (HTTP/2). Over TLS, ALPN offers them in this order (`h2,h1` prefers HTTP/2) and each connection is served in what it negotiated. In cleartext, h2 means prior-knowledge h2c (a proxy that speaks HTTP/2 to its upstreams, `curl --http2-prior-knowledge`): a connection that opens with HTTP/2's preface is served in HTTP/2, any other in HTTP/1.1, on the same listener. The async and thread kinds serve HTTP/2; the sync kind serves HTTP/1.x only and says so as it starts.",
  },
  {
    name: 'http2MaxConcurrentStreams',
    flag: 'http2-max-concurrent-streams',
    type: 'int',
    default: 100,
    min: 1,
    max: 2 ** 31 - 1,
    metavar: 'INT',
    section: 'http',
    gunicorn: 'http2_max_concurrent_streams',
    help: 'HTTP/2: most streams (requests) a client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). A client that opens more has them refused, and one that keeps doing so is disconnected.',
  },
  {
    name: 'http2InitialWindowSize',
    flag: 'http2-initial-window-size',
    type: 'int',
    default: 65535,
    min: 0,
    max: 2 ** 31 - 1,
    metavar: 'BYTES',
    section: 'http',
    gunicorn: 'http2_initial_window_size',
    help: "HTTP/2: how many bytes of each request body a client may send before the app has read them (SETTINGS_INITIAL_WINDOW_SIZE, RFC 9113's default). Larger speeds up big uploads over long round trips, at that much memory per stream.",
  },
  {
    name: 'http2MaxHeaderListSize',
    flag: 'http2-max-header-list-size',
    type: 'int',
    default: 65536,
    min: 1024,
    max: 8 * 1024 * 1024,
    metavar: 'BYTES',
    section: 'http',
    gunicorn: 'http2_max_header_list_size',
    help: "HTTP/2: the largest request header list, in bytes as RFC 9113 counts them (names, values and 32 per field), advertised as SETTINGS_MAX_HEADER_LIST_SIZE; a request with a larger one never reaches the app (its stream is reset). --limit-request-line (method and :path), --limit-request-fields and --limit-request-field_size apply to each request as they do in HTTP/1.1.",
  },
  {
    name: 'headerTimeout',
    flag: 'header-timeout',
    type: 'number',
    default: 30,
    min: 0,
    metavar: 'SECONDS',
    section: 'http',
    help: "How long a client may take to send a request's line and headers (from the connection, or from the end of the previous response); past it the request is answered 408 and the connection closed, so slow clients (slowloris) cannot hold connections. HTTP/2: how long a new connection may take to open its first stream, and how long a client may read nothing while a response waits for it before its connection is cut. With `-k sync` a connection that has sent nothing when a worker accepts it goes to the arbiter, which holds it until its request begins and closes it, without an answer, if it sends nothing within this time. 0 disables. gunicorn has no such limit.",
  },
  {
    name: 'permitObsoleteFolding',
    flag: 'permit-obsolete-folding',
    type: 'boolean',
    default: false,
    section: 'http',
    gunicorn: 'permit_obsolete_folding',
    help: 'Accept header values continued on the next line (obsolete line folding, RFC 9112 §5.2), joining them with one space. Off: such requests are answered 400.',
  },
  {
    name: 'headerMap',
    flag: 'header-map',
    type: 'string',
    default: 'drop',
    choices: ['drop', 'refuse', 'dangerous'],
    metavar: 'MODE',
    section: 'http',
    gunicorn: 'header_map',
    help: 'What to do with request headers whose name contains `_` (a proxy that checks `X-Auth` may pass `X_Auth` unchecked): drop them, refuse the request (400), or pass them to the app (dangerous).',
  },
  {
    name: 'serverHeader',
    flag: 'server-header',
    type: 'string',
    default: '',
    metavar: 'TEXT',
    section: 'http',
    help: "A Server header for every response whose app sets none, e.g. `corral`. Default: none — gunicorn sends `Server: gunicorn`, but naming the server helps only those probing it, and every response pays for the bytes.",
  },
  {
    name: 'forwardedAllowIps',
    flag: 'forwarded-allow-ips',
    type: 'list',
    default: ['127.0.0.1', '::1'],
    commaSeparated: true,
    item: ipOrCidr,
    env: 'FORWARDED_ALLOW_IPS',
    metavar: 'ADDRESSES',
    section: 'proxy',
    gunicorn: 'forwarded_allow_ips',
    help: 'Front-end proxies trusted to say who the client is (comma-separated IPs, CIDR ranges, or * for any): from them, X-Forwarded-For / Forwarded set the client address and --secure-scheme-headers / X-Forwarded-Proto / Forwarded the scheme the app sees. From anyone else those headers are ignored.',
  },
  {
    name: 'secureSchemeHeaders',
    type: 'list',
    default: ['X-FORWARDED-PROTOCOL: ssl', 'X-FORWARDED-PROTO: https', 'X-FORWARDED-SSL: on'],
    headerObject: true,
    item: headerValue,
    section: 'proxy',
    gunicorn: 'secure_scheme_headers',
    help: "Headers a trusted proxy sets on requests that came to it over HTTPS, with the value that means so (config file only; an object like gunicorn's dict, or a list of 'HEADER: value').",
  },
  {
    name: 'proxyProtocol',
    flag: 'proxy-protocol',
    type: 'boolean',
    default: false,
    section: 'proxy',
    gunicorn: 'proxy_protocol',
    help: 'Expect a PROXY protocol header (v1 or v2, as HAProxy, AWS NLB and others send) at the start of connections from --proxy-allow-from peers, and take the client address from it for every request on that connection. A malformed header is answered 400; one from a peer not allowed is refused.',
  },
  {
    name: 'proxyAllowIps',
    flag: 'proxy-allow-from',
    type: 'list',
    default: ['127.0.0.1', '::1'],
    commaSeparated: true,
    item: ipOrCidr,
    metavar: 'ADDRESSES',
    section: 'proxy',
    gunicorn: 'proxy_allow_ips',
    help: 'Peers allowed to send a PROXY protocol header (comma-separated IPs, CIDR ranges, or *). Other peers are served as plain HTTP; a PROXY header from them is refused.',
  },
  {
    name: 'certfile',
    flag: 'certfile',
    type: 'string',
    default: null,
    metavar: 'FILE',
    section: 'tls',
    gunicorn: 'certfile',
    help: 'PEM certificate (chain) file: serve HTTPS on every bound socket. Needs --keyfile. Re-read by new workers, so a HUP picks up a renewed certificate.',
  },
  {
    name: 'keyfile',
    flag: 'keyfile',
    type: 'string',
    default: null,
    metavar: 'FILE',
    section: 'tls',
    gunicorn: 'keyfile',
    help: 'PEM private key file for --certfile.',
  },
  {
    name: 'caCerts',
    flag: 'ca-certs',
    type: 'string',
    default: null,
    metavar: 'FILE',
    section: 'tls',
    gunicorn: 'ca_certs',
    help: 'PEM file of the certificate authorities client certificates are checked against (with --cert-reqs).',
  },
  {
    name: 'certReqs',
    flag: 'cert-reqs',
    type: 'string',
    default: 'none',
    choices: ['none', 'optional', 'required'],
    metavar: 'MODE',
    section: 'tls',
    gunicorn: 'cert_reqs',
    help: 'Client certificates: none (not asked for), optional (asked for; one that fails verification ends the handshake), required (a client without a valid one is refused).',
  },
  {
    name: 'ciphers',
    flag: 'ciphers',
    type: 'string',
    default: null,
    metavar: 'CIPHERS',
    section: 'tls',
    gunicorn: 'ciphers',
    help: "OpenSSL cipher list for TLS 1.2 and below (TLS 1.3 suites are OpenSSL's). Default: Node's.",
  },
  {
    name: 'maxRequests',
    flag: 'max-requests',
    type: 'int',
    default: 0,
    min: 0,
    metavar: 'INT',
    section: 'worker',
    gunicorn: 'max_requests',
    help: 'Replace a worker after it has served this many requests (a guard against leaks). The replacement is ready before the old one drains. 0 disables.',
  },
  {
    name: 'maxRequestsJitter',
    flag: 'max-requests-jitter',
    type: 'int',
    default: 0,
    min: 0,
    metavar: 'INT',
    section: 'worker',
    gunicorn: 'max_requests_jitter',
    help: 'Add a random 0..N to each worker\'s --max-requests, so workers are not all replaced at once.',
  },
  {
    name: 'maxMemory',
    flag: 'max-memory',
    type: 'string',
    default: null,
    metavar: 'SIZE',
    section: 'worker',
    check: (value: string) => (parseSize(value) === undefined ? 'is not a size (bytes, or a number with K, M or G: 512M)' : undefined),
    help: 'Replace a worker whose resident memory (RSS) passes this size, e.g. 512M or 1G: the replacement is ready before the old one drains, as with --max-requests. Off unless set.',
  },
  {
    name: 'dirtyApp',
    flag: 'dirty-app',
    type: 'string',
    default: null,
    metavar: 'MODULE',
    section: 'worker',
    gunicorn: 'dirty_apps',
    help: "Start a dirty pool: processes that load MODULE once (its exported functions; an exported setup() runs once per process, e.g. to load a model) and run them for the app through `import { dirty } from 'corral'`: `await dirty.execute('name', ...args)`, `dirty.stream('name', ...args)`. For work too heavy or too long for a worker's event loop, and data held once per machine instead of once per worker. Off unless set.",
  },
  {
    name: 'dirtyWorkers',
    flag: 'dirty-workers',
    type: 'int',
    default: 1,
    min: 1,
    metavar: 'INT',
    section: 'worker',
    gunicorn: 'dirty_workers',
    help: 'Number of dirty processes (with --dirty-app). Each runs one call at a time; `corral ctl dirty-scale N` changes it while running.',
  },
  {
    name: 'dirtyTimeout',
    flag: 'dirty-timeout',
    type: 'number',
    default: 30,
    min: 0,
    metavar: 'SECONDS',
    section: 'worker',
    gunicorn: 'dirty_timeout',
    help: 'A dirty call not answered within this long (waiting in the queue included) rejects with CORRAL_ERR_DIRTY_TIMEOUT, and the dirty process running it is replaced. A call may ask for its own: `dirty.with({ timeout: SECONDS }).execute(name, ...args)`. 0 disables.',
  },
  {
    name: 'dirtyQueue',
    flag: 'dirty-queue',
    type: 'int',
    default: 1024,
    min: 0,
    metavar: 'INT',
    section: 'worker',
    help: 'How many dirty calls may wait for a free dirty process; one more rejects at once with CORRAL_ERR_DIRTY_QUEUE_FULL (back-pressure, not unbounded memory).',
  },
  {
    name: 'dirtyMaxMessage',
    flag: 'dirty-max-message',
    type: 'string',
    default: '16M',
    metavar: 'SIZE',
    section: 'worker',
    check: (value: string) => (parseSize(value) === undefined ? 'is not a size (bytes, or a number with K, M or G: 16M)' : undefined),
    help: "Largest dirty call's arguments, result or stream chunk, as msgpack; past it the call rejects with CORRAL_ERR_DIRTY_TOO_LARGE.",
  },
  {
    name: 'dirtyQueueBytes',
    flag: 'dirty-queue-bytes',
    type: 'string',
    default: '256M',
    metavar: 'SIZE',
    section: 'worker',
    check: (value: string) => (parseSize(value) === undefined ? 'is not a size (bytes, or a number with K, M or G: 256M)' : undefined),
    help: "Most bytes of arguments the dirty calls waiting for a free dirty process may hold in the arbiter, together; past it a call rejects at once with CORRAL_ERR_DIRTY_QUEUE_FULL. A call alone in the queue is always taken (up to --dirty-max-message).",
  },
  {
    name: 'preloadApp',
    flag: 'preload',
    type: 'boolean',
    default: false,
    section: 'worker',
    gunicorn: 'preload_app',
    help: 'Load the app once in the arbiter before starting workers, so a broken app fails at once (exit 4) and no worker is started.',
  },
  {
    name: 'reload',
    flag: 'reload',
    type: 'boolean',
    default: false,
    section: 'worker',
    gunicorn: 'reload',
    help: "Rolling-reload the workers when files under the app's directory change, new files and directories included, through editors' atomic saves (node_modules and dot-directories ignored). For development.",
  },
  {
    name: 'reloadExtraFiles',
    flag: 'reload-extra-file',
    type: 'list',
    default: [],
    metavar: 'FILE',
    section: 'worker',
    gunicorn: 'reload_extra_files',
    help: 'With --reload, also watch this file or directory. Repeatable.',
  },
  {
    name: 'chdir',
    flag: 'chdir',
    type: 'string',
    default: null,
    metavar: 'DIR',
    section: 'process',
    gunicorn: 'chdir',
    help: 'Change to this directory before loading the app (APP_MODULE is resolved from it).',
  },
  {
    name: 'rawEnv',
    flag: 'env',
    short: 'e',
    type: 'list',
    default: [],
    item: keyValue,
    metavar: 'KEY=VALUE',
    section: 'process',
    gunicorn: 'raw_env',
    help: 'Set an environment variable for the app (in the arbiter and every worker). Repeatable.',
  },
  {
    name: 'user',
    flag: 'user',
    short: 'u',
    type: 'string',
    default: null,
    metavar: 'USER',
    section: 'process',
    gunicorn: 'user',
    help: 'Run workers as this user (name or uid). The arbiter binds the sockets first, so ports below 1024 work when started as root.',
  },
  {
    name: 'group',
    flag: 'group',
    short: 'g',
    type: 'string',
    default: null,
    metavar: 'GROUP',
    section: 'process',
    gunicorn: 'group',
    help: "Run workers with this group (name or gid); default: the user's primary group.",
  },
  {
    name: 'initgroups',
    flag: 'initgroups',
    type: 'boolean',
    default: false,
    section: 'process',
    gunicorn: 'initgroups',
    help: "With --user, also give workers the user's supplementary groups.",
  },
  {
    name: 'controlSocket',
    flag: 'control-socket',
    type: 'string',
    default: null,
    metavar: 'PATH',
    section: 'process',
    gunicorn: 'control_socket',
    help: "Unix socket that `corral ctl` drives the server through. Default: a path of this server's own, $XDG_RUNTIME_DIR/corral/NAME.PID.sock (or $TMPDIR/corral-UID/NAME.PID.sock, a directory that must be this user's alone), so two servers never collide; `corral ctl` finds it from --name, --pid or the config file.",
  },
  {
    name: 'controlSocketMode',
    flag: 'control-socket-mode',
    type: 'string',
    default: '600',
    metavar: 'OCTAL',
    section: 'process',
    gunicorn: 'control_socket_mode',
    help: 'Permission bits of the control socket: by default only its owner may drive the server.',
  },
  {
    name: 'controlSocketDisable',
    flag: 'no-control-socket',
    type: 'boolean',
    default: false,
    section: 'process',
    gunicorn: 'control_socket_disable',
    help: 'Open no control socket (`corral ctl` cannot reach this server; signals still work).',
  },
  {
    name: 'umask',
    flag: 'umask',
    short: 'm',
    type: 'string',
    default: null,
    metavar: 'OCTAL',
    section: 'process',
    gunicorn: 'umask',
    help: "File mode mask for files corral creates (unix sockets, logs, pidfile), e.g. 027. Default: inherited (gunicorn's default of 0 would make them world-writable).",
  },
  {
    name: 'pidfile',
    flag: 'pid',
    short: 'p',
    type: 'string',
    default: null,
    metavar: 'FILE',
    section: 'process',
    gunicorn: 'pidfile',
    help: "Write the arbiter's pid to this file; it is removed on exit.",
  },
  {
    name: 'procName',
    flag: 'name',
    short: 'n',
    type: 'string',
    default: null,
    metavar: 'NAME',
    section: 'process',
    gunicorn: 'proc_name',
    help: "Process titles become 'corral: master [NAME]' and 'corral: worker [NAME]', as ps and top show them.",
  },
  {
    name: 'errorlog',
    flag: 'error-logfile',
    aliases: ['log-file'],
    type: 'string',
    default: '-',
    metavar: 'FILE',
    section: 'logging',
    gunicorn: 'errorlog',
    help: "Error log file; '-' is stderr. Reopened on USR1.",
  },
  {
    name: 'logLevel',
    flag: 'log-level',
    type: 'string',
    default: 'info',
    choices: LOG_LEVELS,
    metavar: 'LEVEL',
    section: 'logging',
    gunicorn: 'loglevel',
    help: 'Granularity of error log output.',
  },
  {
    name: 'logFormat',
    flag: 'log-format',
    type: 'string',
    default: 'text',
    choices: ['text', 'json'],
    metavar: 'FORMAT',
    section: 'logging',
    help: "Error log line format: gunicorn's text lines, or JSON lines (one object per line) for log shippers.",
  },
  {
    name: 'captureOutput',
    flag: 'capture-output',
    type: 'boolean',
    default: false,
    section: 'logging',
    gunicorn: 'capture_output',
    help: "Send workers' stdout and stderr to the error log file. With --log-format json each line becomes a JSON record (`stream` stdout at level info, stderr at error), also when the error log is stderr.",
  },
  {
    name: 'accesslog',
    flag: 'access-logfile',
    type: 'string',
    default: null,
    metavar: 'FILE',
    section: 'logging',
    gunicorn: 'accesslog',
    help: "Access log file; '-' is stdout. Off unless set. Reopened on USR1.",
  },
  {
    name: 'accessLogFormat',
    flag: 'access-logformat',
    type: 'string',
    default: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
    metavar: 'FORMAT',
    section: 'logging',
    gunicorn: 'access_log_format',
    help: 'Access log line format, with gunicorn\'s atoms: h l u t r m U q H s B b f a T D M L p, {header}i, {header}o, {VAR}e, and request_id (X-Request-Id as sent, or made and set on the response); or `json` for one JSON object per request with every atom as a field.',
  },
  {
    name: 'statsdHost',
    flag: 'statsd-host',
    type: 'string',
    default: null,
    metavar: 'HOST:PORT',
    section: 'metrics',
    gunicorn: 'statsd_host',
    help: 'Send StatsD metrics (UDP) to this address.',
  },
  {
    name: 'statsdPrefix',
    flag: 'statsd-prefix',
    type: 'string',
    default: '',
    metavar: 'PREFIX',
    section: 'metrics',
    gunicorn: 'statsd_prefix',
    help: 'Prefix for StatsD metric names (a dot is added).',
  },
  {
    name: 'dogstatsdTags',
    flag: 'dogstatsd-tags',
    type: 'string',
    default: '',
    metavar: 'TAGS',
    section: 'metrics',
    gunicorn: 'dogstatsd_tags',
    help: 'Comma-separated DogStatsD tags added to every metric (key:value,…).',
  },
  {
    name: 'metricsBind',
    flag: 'metrics-bind',
    type: 'string',
    default: null,
    metavar: 'HOST:PORT',
    section: 'metrics',
    help: 'Serve Prometheus metrics, aggregated from every worker by the arbiter, at http://HOST:PORT/metrics (and /livez, /readyz unless --health-bind is set). Off unless set.',
  },
  {
    name: 'healthBind',
    flag: 'health-bind',
    type: 'string',
    default: null,
    metavar: 'HOST:PORT',
    section: 'metrics',
    help: "Answer health checks at http://HOST:PORT: GET /livez (200 while the arbiter runs) and GET /readyz (200 while serving with a ready worker; 503 while booting, in the drain delay, draining, or with no worker ready). Without it, --metrics-bind's listener answers them.",
  },
  {
    name: 'inspector',
    flag: 'inspector',
    type: 'string',
    default: null,
    metavar: '[HOST:]PORT',
    section: 'metrics',
    help: "Serve the live inspector page at http://HOST:PORT/ (a bare PORT: 127.0.0.1): a table of the workers and their numbers (requests per second, 4xx/5xx, latency, CPU, memory), the arbiter's and a worker's statechart with their transitions and the current state lit, an event log to replay the past from, and the error log. Off unless set; it answers only a Host that names it (against DNS rebinding); on an address other than loopback the URL carries a token, left out of the log: `corral ctl inspector` prints it.",
  },
  {
    name: 'inspectorHistory',
    flag: 'inspector-history',
    type: 'int',
    default: 1000,
    min: 0,
    max: 100000,
    metavar: 'INT',
    section: 'metrics',
    help: "Moments the inspector keeps to replay: at each change of state (and each signal, scaling or exit) the whole picture, every chart's state and the numbers; clicking a line of its event log shows the picture as it was then, and steps through the changes from there. The oldest go first; 0 keeps none.",
  },
  {
    name: 'inspectorLogLines',
    flag: 'inspector-log-lines',
    type: 'int',
    default: 200,
    min: 0,
    max: 10000,
    metavar: 'INT',
    section: 'metrics',
    help: 'Lines of the error log (--error-logfile, when it is a file) the inspector shows and follows live, from the arbiter and every worker, filterable by process. 0 shows none.',
  },
  {
    name: 'inspectorActions',
    flag: 'inspector-actions',
    type: 'boolean',
    default: false,
    section: 'metrics',
    help: "Let the inspector page act: scale, a rolling reload, stop one worker (a replacement boots first). Each action is a POST carrying the page's session token in a header (a page of another site can do neither), needs the URL's token off loopback like every inspector path, and is logged with `by: inspector`. Off by default: the page only watches.",
  },
  {
    name: 'inspectorStately',
    flag: 'inspector-stately',
    type: 'string',
    default: null,
    metavar: 'sky|ws://HOST:PORT',
    section: 'metrics',
    help: "Also send the actors' inspection events to Stately's inspector through @statelyai/inspect (install it beside corral): `sky` for Stately Sky, or the WebSocket URL of a receiver of your own.",
  },
] as const satisfies readonly SettingSpec[];

type SpecValue<S> = S extends { type: 'list' }
  ? string[]
  : S extends { type: 'int' | 'number' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : S extends { default: null }
        ? string | null
        : string;

/** The fully resolved settings: plain data, so they travel to workers as they are. */
export type Settings = { [S in (typeof settingsSchema)[number] as S['name']]: SpecValue<S> };

export const allSettings: readonly SettingSpec[] = settingsSchema;

export const settingByName = new Map(allSettings.map((spec) => [spec.name, spec]));

/** How a setting is written on the command line, for messages: `-w/--workers`. */
export const flagName = (spec: SettingSpec) =>
  spec.flag ? (spec.short ? `-${spec.short}/--${spec.flag}` : `--${spec.flag}`) : spec.name;
