// Runs a fetch-style app ((Request) => Response) natively in a pool thread.
import type { FetchHandler } from '../app/app-shape.js';
import type { RequestTask, ThreadResponse } from './thread-messages.js';
import { forEachRequestHeader } from './thread-request-headers.js';

const bodiless = (method: string) => method === 'GET' || method === 'HEAD';

function requestUrl(task: RequestTask, host: string | null): URL {
  const scheme = task.secure ? 'https' : 'http';
  // The Host header names the origin the client asked for; a missing or malformed one falls back to localhost.
  try {
    return new URL(task.url, `${scheme}://${host ?? 'localhost'}`);
  } catch {
    return new URL(task.url, `${scheme}://localhost`);
  }
}

export async function serveFetch(fetch: FetchHandler, task: RequestTask): Promise<ThreadResponse> {
  const headers = new Headers();
  forEachRequestHeader(task, (name, value) => headers.append(name, value));
  const request = new Request(requestUrl(task, headers.get('host')), {
    method: task.method,
    headers,
    body: bodiless(task.method) ? null : task.body,
  });
  const response = await fetch(request, { client: { address: task.remoteAddress, port: task.remotePort, scheme: task.secure ? 'https' : 'http' } });
  if (!(response instanceof Response)) {
    throw new TypeError(`the fetch handler returned ${response === null ? 'null' : typeof response}, not a Response`);
  }
  const flat: string[] = [];
  // Set-Cookie is the one header that must never be folded into a single line.
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') flat.push(name, value);
  });
  for (const cookie of response.headers.getSetCookie()) flat.push('set-cookie', cookie);
  return {
    status: response.status,
    statusText: response.statusText,
    headers: flat,
    body: response.body ? await response.arrayBuffer() : null,
  };
}
