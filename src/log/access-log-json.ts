// `--access-logformat json`: one JSON object per request, each atom a field
// with a name and a type of its own, for log shippers: numbers as numbers,
// the time in ISO 8601, what is missing as null, nothing escaped by hand.
import { REQUEST_ID_HEADER } from '../http/request-id.js';
import { type AccessLogEntry, type AccessLogFormatter, REQUEST_ID_ATOM, basicAuthUserName } from './access-log-format.js';

/** The keyword that selects this format in place of a %-format. */
export const JSON_ACCESS_LOG_FORMAT = 'json';

/** The atoms behind the fields: they tell the access log what to measure (duration, body bytes) and to assign request ids. */
const ATOMS = Object.freeze(['h', 'u', 't', 'r', 'm', 'U', 'q', 'H', 's', 'B', 'f', 'a', 'D', 'L', 'p', REQUEST_ID_ATOM]);

const orNull = (value: string | string[] | undefined) => (value === undefined ? null : Array.isArray(value) ? value.join(', ') : value);

export function compileJsonAccessLog(): AccessLogFormatter {
  const pid = process.pid;
  const render = ({ req, res, bodyBytes, durationNs, finishedAt }: AccessLogEntry) => {
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const durationUs = Number(durationNs / 1000n);
    return JSON.stringify({
      time: new Date(finishedAt).toISOString(),
      remote_addr: req.socket.remoteAddress ?? null,
      user: basicAuthUserName(req.headers.authorization) ?? null,
      request: `${req.method} ${url} HTTP/${req.httpVersion}`,
      method: req.method ?? null,
      path: queryAt === -1 ? url : url.slice(0, queryAt),
      query: queryAt === -1 ? null : url.slice(queryAt + 1),
      protocol: `HTTP/${req.httpVersion}`,
      status: res.statusCode,
      bytes: bodyBytes,
      referer: orNull(req.headers.referer),
      user_agent: orNull(req.headers['user-agent']),
      duration_us: durationUs,
      duration_s: durationUs / 1_000_000,
      pid,
      request_id: orNull(req.headers[REQUEST_ID_HEADER]),
    });
  };
  return Object.assign(render, { atoms: ATOMS });
}
