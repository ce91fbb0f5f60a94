// Continuous keep-alive load for the reload bench, with every failed request
// counted by kind. autocannon drives the connections; each of its clients is
// wrapped (through `setupClient`) so that it behaves like an ordinary HTTP/1.1
// client when a server ends a connection:
//
// - a response carrying `Connection: close` ends that connection; the next
//   request goes out on a new one (autocannon alone would write it on the
//   closing socket, and count the reset that follows against the server);
// - a connection that errors or is closed while a request is waiting for its
//   response counts that request as failed, by kind, and a fresh connection
//   starts with an empty request queue and a fresh response parser.
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

export const AUTOCANNON_VERSION = createRequire(import.meta.url)('autocannon/package.json').version;

/** Failure kinds, in the order they are reported. */
export const FAILURE_KINDS = ['resets', 'closed', 'refused', 'timeouts', 'non2xx', 'otherErrors'];

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

function emptyCounts() {
  return {
    sent: 0,
    ok: 0,
    resets: 0, // ECONNRESET / EPIPE with a request outstanding
    closed: 0, // server closed the connection (FIN) with a request outstanding and no `Connection: close`
    refused: 0, // ECONNREFUSED: nothing listening
    timeouts: 0, // no response within the autocannon timeout
    non2xx: 0,
    otherErrors: 0,
    closesHonoured: 0, // responses with `Connection: close`, after which the client reconnected
    errorCodes: {}, // code -> count, for the report's notes
  };
}

/** Sum of all failure kinds. */
export const failedTotal = (counts) => FAILURE_KINDS.reduce((sum, kind) => sum + counts[kind], 0);

/**
 * Start load on http://127.0.0.1:PORT/ for `durationSec`. Returns
 * `{ done, stop }`: `done` resolves to the counts when the run ends.
 */
export function startLoad(port, { connections, durationSec, timeoutSec = 10 }) {
  const counts = emptyCounts();
  const instance = autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections,
    pipelining: 1,
    duration: durationSec,
    timeout: timeoutSec,
    setupClient: (client) => instrument(client, counts),
  });
  const done = new Promise((resolve, reject) => {
    instance.once('done', (result) => {
      resolve({
        ...counts,
        autocannon: { sent: result.requests.sent, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx },
        rps: result.requests.mean,
        p50: result.latency.p50,
        p99: result.latency.p99,
      });
    });
    instance.once('error', reject);
  });
  // autocannon's promise also settles on errors; keep it from being reported as unhandled.
  instance.catch?.(() => {});
  return { done, stop: () => instance.stop(), counts };
}

function instrument(client, counts) {
  let closeAfterResponse = false;

  client.on('request', () => { counts.sent += 1; });
  client.on('headers', (info) => { closeAfterResponse = info.shouldKeepAlive === false; });
  client.on('response', (status) => {
    if (status >= 200 && status < 300) counts.ok += 1;
    else counts.non2xx += 1;
  });
  client.on('timeout', () => { counts.timeouts += 1; });

  const freshParser = () => client.parser.initialize(client.parser.type);
  const outstanding = () => client.pipelinedRequests.size();

  // Every new connection: watch how it ends, before autocannon's own listeners run.
  const connect = client._connect;
  client._connect = function connectWatched() {
    connect.call(this);
    const conn = this.conn;
    conn.prependListener('error', (err) => {
      if (conn !== client.conn) return;
      if (outstanding() > 0) {
        const code = err.code ?? 'unknown';
        counts.errorCodes[code] = (counts.errorCodes[code] ?? 0) + 1;
        if (RESET_CODES.has(code)) counts.resets += outstanding();
        else if (code === 'ECONNREFUSED') counts.refused += outstanding();
        else counts.otherErrors += outstanding();
      }
      client.pipelinedRequests.clear();
      freshParser();
    });
    conn.prependListener('end', () => {
      if (conn !== client.conn) return;
      counts.closed += outstanding();
      client.pipelinedRequests.clear();
      freshParser();
      // This socket is finished with: a late error on it must not start a second connection.
      conn.removeAllListeners('error');
      conn.on('error', () => {});
    });
  };

  // A timed-out or abandoned connection also leaves the parser mid-message.
  const destroyConnection = client._destroyConnection;
  client._destroyConnection = function destroyConnectionAndParser() {
    destroyConnection.call(this);
    freshParser();
  };

  // Called right after each complete response: honour `Connection: close`.
  const doRequest = client._doRequest;
  client._doRequest = function doRequestOnOpenConnection() {
    if (closeAfterResponse && !this.destroyed) {
      closeAfterResponse = false;
      counts.closesHonoured += 1;
      this._destroyConnection();
      this._connect(); // sends the next request itself
      return;
    }
    doRequest.call(this);
  };
}
