// --inspector HOST:PORT: the arbiter serves the inspector page, the charts it
// draws (from the machine definitions, as diagrams/ are) and the live picture
// as Server-Sent Events. Every path checks the Host (see host-check); off
// loopback every path also needs the token in the URL, which the log leaves
// out: the owner gets it from `corral ctl inspector` (or on the terminal).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { arbiterMachine } from '../../machines/arbiter.js';
import { workerHandleMachine } from '../../machines/worker-handle.js';
import { dirtyPoolMachine } from '../../machines/dirty-pool.js';
import { CorralError, describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { hostForUrl, parseHostPort } from '../sockets/host-port.js';
import { hostChecker, isLoopback } from './host-check.js';
import { INSPECTOR_PAGE } from './inspector-page.js';
import type { LiveFeed } from './live-feed.js';
import type { ErrorLogTail } from './error-log-tail.js';
import { type ActionTarget, createInspectorActions } from './inspector-actions.js';
import { describeStatechart } from './statechart-model.js';
import { layoutStatechart } from './statechart-layout.js';

/** A small mark for the tab, so the browser's own request for it is not a 404. */
const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="1" width="14" height="14" rx="3" fill="#1f7a4d"/><circle cx="8" cy="8" r="3" fill="#fff"/></svg>';

/** A comment line now and then keeps proxies and browsers from closing a quiet stream. */
const SSE_KEEPALIVE_MS = 15_000;

export interface InspectorServer {
  url: string;
  /** The server is up: the page's actions (when allowed) can reach it. */
  attach(target: ActionTarget): void;
  /** What a reload may change while the inspector runs; each change is logged. */
  apply(settings: LiveInspectorSettings): void;
  close(): void;
}

/** The inspector's settings a reload applies at once (its address and --inspector-stately take a restart). */
export interface LiveInspectorSettings {
  history: number;
  logLines: number;
  actions: boolean;
}

function sameToken(given: string | null, token: string): boolean {
  if (given === null || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

export async function startInspectorServer(
  raw: string,
  feed: LiveFeed,
  logger: Logger,
  /** The error log's tail keeping that many lines: made again when a reload changes --inspector-log-lines. */
  tailOf: (lines: number) => ErrorLogTail,
  initial: LiveInspectorSettings,
): Promise<InspectorServer> {
  let current = { ...initial };
  let errorLog = tailOf(current.logLines);
  const actionsAllowed = current.actions;
  const actions = createInspectorActions(actionsAllowed, logger, (text) => feed.note(text));
  // A bare port stays on loopback: another address has to be named.
  const { host, port } = parseHostPort(/^\d+$/.test(raw.trim()) ? `127.0.0.1:${raw.trim()}` : raw, 'inspector', '--inspector', '127.0.0.1:9200');
  const token = isLoopback(host) ? undefined : randomBytes(16).toString('hex');
  // Each chart with where its boxes and arrows go, worked out once: the page only draws them.
  const withLayout = (chart: ReturnType<typeof describeStatechart>) => ({ ...chart, layout: layoutStatechart(chart) });
  const charts = JSON.stringify({ arbiter: withLayout(describeStatechart(arbiterMachine)), workerHandle: withLayout(describeStatechart(workerHandleMachine)), dirtyPool: withLayout(describeStatechart(dirtyPoolMachine)) });
  /** Each page's stream, and how to stop following the error log for it. */
  const streams = new Map<http.ServerResponse, { unfollow: () => void }>();
  const followErrorLog = (res: http.ServerResponse) => {
    if (errorLog.unavailable) res.write(`event: errorlog\ndata: ${JSON.stringify({ unavailable: errorLog.unavailable, reset: true, lines: [] })}\n\n`);
    return errorLog.follow((lines, reset) => res.write(`event: errorlog\ndata: ${JSON.stringify({ unavailable: errorLog.unavailable ?? '', reset, lines })}\n\n`));
  };

  const answer = (res: http.ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  // Set once the port is known (a bare :0 picks one).
  let hostAllowed: (header: string | undefined) => boolean = () => false;
  const server = http.createServer((req, res) => {
    try {
      if (!hostAllowed(req.headers.host)) {
        return answer(res, 421, 'text/plain', 'Misdirected request: the inspector answers only a Host that names it (localhost, 127.0.0.1, [::1] or the address it is bound to, with its port), not a DNS name pointed at it.\n');
      }
      const url = new URL(req.url ?? '/', 'http://inspector');
      // The tab's icon tells nothing: browsers ask for it without the page's token.
      if (url.pathname === '/favicon.ico' && (req.method === 'GET' || req.method === 'HEAD')) return answer(res, 200, 'image/svg+xml', FAVICON);
      if (token && !sameToken(url.searchParams.get('token'), token)) return answer(res, 403, 'text/plain', 'Forbidden: the inspector URL carries a token; `corral ctl inspector` prints the whole URL.\n');
      if (url.pathname === '/action') {
        void actions.handle(req).then(
          ({ status, message }) => answer(res, status, 'text/plain', `${message}\n`),
          (error: unknown) => {
            logger.error(`Inspector action failed: ${describeError(error)}`);
            if (!res.headersSent) answer(res, 500, 'text/plain', 'Internal error.\n');
          },
        );
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'text/plain', 'Method not allowed.\n');
      switch (url.pathname) {
        case '/':
          return answer(res, 200, 'text/html; charset=utf-8', INSPECTOR_PAGE);
        case '/charts':
          return answer(res, 200, 'application/json', charts);
        case '/session':
          return answer(res, 200, 'application/json', JSON.stringify(actions.session()));
        case '/history': {
          const seq = Number(url.searchParams.get('seq'));
          if (!Number.isInteger(seq)) return answer(res, 400, 'text/plain', 'Bad request: /history wants ?seq=N, the number of a moment from the event log.\n');
          const moment = feed.history(seq);
          if (!moment) return answer(res, 404, 'text/plain', 'Not found: no history is kept (--inspector-history 0), or nothing has happened yet.\n');
          return answer(res, 200, 'application/json', JSON.stringify(moment));
        }
        case '/events': {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
          const unsubscribe = feed.subscribe((picture) => res.write(`data: ${JSON.stringify(picture)}\n\n`));
          // The error log's lines travel as events of their own: only the new ones, as they come.
          const stream = { unfollow: followErrorLog(res) };
          streams.set(res, stream);
          const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
          res.once('close', () => {
            clearInterval(keepAlive);
            unsubscribe();
            stream.unfollow();
            streams.delete(res);
          });
          return;
        }
        default:
          return answer(res, 404, 'text/plain', 'Not found: the inspector is at /.\n');
      }
    } catch (error) {
      logger.error(`Inspector failed: ${describeError(error)}`);
      if (!res.headersSent) answer(res, 500, 'text/plain', 'Internal error.\n');
      else res.destroy();
    }
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new CorralError('CORRAL_ERR_BIND', `Can't serve the inspector at ${hostForUrl(host)}:${port}: ${describeError(error)}`, { cause: error })));
    server.listen({ host, port }, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  hostAllowed = hostChecker(host, bound);
  const url = `http://${hostForUrl(host)}:${bound}/${token ? `?token=${token}` : ''}`;
  if (token) {
    // Log files are often readable by others (and journals by a group): the token stays out of them.
    logger.info(`Inspector: http://${hostForUrl(host)}:${bound}/?token=… (the token is left out of the log: \`corral ctl inspector\` prints the whole URL)`);
    if (process.stderr.isTTY) process.stderr.write(`Inspector, whole URL (shown on this terminal only): ${url}\n`);
  } else {
    logger.info(`Inspector: ${url}`);
  }
  return {
    url,
    attach: (target) => actions.attach(target),
    apply(next) {
      const changes: string[] = [];
      if (next.history !== current.history) {
        feed.keepHistory(next.history);
        changes.push(`keeps ${next.history} moment(s) to replay (was ${current.history})`);
      }
      if (next.logLines !== current.logLines) {
        // Every page open now follows the new tail from its start.
        for (const stream of streams.values()) stream.unfollow();
        errorLog = tailOf(next.logLines);
        for (const [res, stream] of streams) stream.unfollow = followErrorLog(res);
        changes.push(`shows ${next.logLines} line(s) of the error log (was ${current.logLines})`);
      }
      if (next.actions !== current.actions) {
        actions.allow(next.actions);
        changes.push(next.actions ? 'allows actions now (a page opened before shows them once reloaded)' : 'allows no action now');
      }
      current = { ...next };
      if (changes.length > 0) logger.info(`Reload: the inspector ${changes.join('; ')}`);
    },
    close() {
      for (const res of streams.keys()) res.destroy();
      server.close();
      feed.close();
    },
  };
}
