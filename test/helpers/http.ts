// Plain HTTP requests with no connection pooling, so each test sees exactly the connections it opens.
import http from 'node:http';

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** `target` is a listening URL as corral logs it: http://host:port or unix:/path. */
export function request(target: string, options: RequestOptions = {}): Promise<Response> {
  const { path = '/', method = 'GET', headers = {}, body, timeoutMs = 10_000 } = options;
  const where = target.startsWith('unix:') ? { socketPath: target.slice('unix:'.length) } : (() => {
    const url = new URL(target);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
  })();
  return new Promise((resolve, reject) => {
    const req = http.request({ ...where, path, method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${target}${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts a GET and resolves once its response headers arrived, i.e. the request
 * is in flight on a worker; `body` settles when the response ends or is cut.
 */
export function startRequest(url: string, path: string) {
  const { hostname, port } = new URL(url);
  return new Promise<{ body: Promise<string> }>((resolve, reject) => {
    const req = http.get({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port), path, agent: false }, (res) => {
      const body = new Promise<string>((done, fail) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => done(text));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('aborted')));
      });
      body.catch(() => {});
      resolve({ body });
    });
    req.on('error', reject);
  });
}
