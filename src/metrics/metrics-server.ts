// The arbiter's side endpoints: `GET /metrics` on `--metrics-bind`, `/livez` and
// `/readyz` there or on `--health-bind`. Each server answers its routes, anything
// else with 4xx, and logs its own faults: it never takes the arbiter down.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CorralError, describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { hostForUrl, parseHostPort } from '../sockets/host-port.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.js';

export const METRICS_PATH = '/metrics';
/** Scrapers reconnect often; an idle connection is not worth holding long. */
const KEEP_ALIVE_MS = 5000;
const REQUEST_TIMEOUT_MS = 10_000;

/** What a route answers now. */
export interface RouteAnswer {
  status: number;
  body: string;
  contentType?: string;
}
export type Routes = Record<string, () => RouteAnswer>;

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** `--metrics-bind`: HOST:PORT or [IPV6]:PORT only (no unix: or fd://). */
export const parseMetricsBind = (raw: string) => parseHostPort(raw, 'metricsBind', '--metrics-bind', '127.0.0.1:9100');


function answer(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** `--health-bind`: as --metrics-bind. */
export const parseHealthBind = (raw: string) => parseHostPort(raw, 'healthBind', '--health-bind', '0.0.0.0:8081');

/** The Prometheus exposition as a route. */
export const metricsRoute = (render: () => string): Routes => ({
  [METRICS_PATH]: () => ({ status: 200, body: render(), contentType: PROMETHEUS_CONTENT_TYPE }),
});

export async function startMetricsServer(raw: string, routes: Routes, logger: Logger, what = 'metrics', parse = parseMetricsBind): Promise<MetricsServer> {
  const { host, port } = parse(raw);
  const paths = Object.keys(routes).join(', ');
  const server = http.createServer((req, res) => {
    try {
      const path = (req.url ?? '').split('?')[0];
      const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
      if (!route) return answer(res, 404, `Not found. This endpoint answers ${paths}.\n`);
      if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'Method not allowed.\n', { allow: 'GET, HEAD' });
      const { status, body, contentType } = route();
      answer(res, status, body, contentType ? { 'content-type': contentType } : {});
    } catch (error) {
      logger.error(`The ${what} endpoint failed: ${describeError(error)}`);
      if (!res.headersSent) answer(res, 500, 'Internal error.\n');
      else res.destroy();
    }
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.on('clientError', (error, socket) => {
    if (socket.writable && !(error as { code?: string }).code?.startsWith('ECONN')) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    } else socket.destroy();
  });

  return new Promise((resolve, reject) => {
    const onStartupError = (error: Error) =>
      reject(new CorralError('CORRAL_ERR_BIND', `Can't serve ${what} at ${hostForUrl(host)}:${port}: ${describeError(error)}`, { cause: error }));
    server.once('error', onStartupError);
    server.listen({ host, port }, () => {
      server.off('error', onStartupError);
      server.on('error', (error) => logger.error(`The ${what} endpoint: ${describeError(error)}`));
      const bound = server.address() as AddressInfo;
      resolve({
        url: `http://${hostForUrl(bound.address)}:${bound.port}`,
        close: () =>
          new Promise<void>((closed) => {
            server.close(() => closed());
            server.closeAllConnections();
          }),
      });
    });
  });
}
