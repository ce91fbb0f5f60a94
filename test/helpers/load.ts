// A steady keep-alive load for tests: `clients` loops, each on its own keep-alive
// connection, sending requests back to back until stopped. Counts every outcome.
import http from 'node:http';

export interface LoadResult {
  sent: number;
  ok: number;
  failures: string[];
  /** When each failure happened (Date.now()), in the order of `failures`. */
  failedAt: number[];
  bodies: Map<string, number>;
}

export function startLoad(url: string, { clients = 8, path = '/' } = {}) {
  const { hostname, port } = new URL(url);
  const result: LoadResult = { sent: 0, ok: 0, failures: [], failedAt: [], bodies: new Map() };
  const fail = (reason: string) => {
    result.failures.push(reason);
    result.failedAt.push(Date.now());
  };
  let running = true;
  const agents: http.Agent[] = [];
  const once = (agent: http.Agent) =>
    new Promise<void>((resolve) => {
      result.sent += 1;
      const req = http.get({ host: hostname, port: Number(port), path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode === 200) result.ok += 1;
          else fail(`status ${res.statusCode}`);
          result.bodies.set(body, (result.bodies.get(body) ?? 0) + 1);
          resolve();
        });
        res.on('error', (error) => (fail(error.message), resolve()));
      });
      // A request that gets no answer is a failure too, not a client waiting forever.
      req.setTimeout(30_000, () => req.destroy(new Error('no response within 30 s')));
      req.on('error', (error) => (fail(error.message), resolve()));
    });
  const loops = Array.from({ length: clients }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    while (running) await once(agent);
  });
  return {
    result,
    async stop(): Promise<LoadResult> {
      running = false;
      await Promise.all(loops);
      agents.forEach((agent) => agent.destroy());
      return result;
    },
  };
}
