// A steady keep-alive load for tests: `clients` loops, each on its own keep-alive
// connection, sending requests back to back until stopped. Counts every outcome.
import http from 'node:http';

export interface LoadResult {
  sent: number;
  ok: number;
  failures: string[];
  bodies: Map<string, number>;
}

export function startLoad(url: string, { clients = 8, path = '/' } = {}) {
  const { hostname, port } = new URL(url);
  const result: LoadResult = { sent: 0, ok: 0, failures: [], bodies: new Map() };
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
          else result.failures.push(`status ${res.statusCode}`);
          result.bodies.set(body, (result.bodies.get(body) ?? 0) + 1);
          resolve();
        });
        res.on('error', (error) => (result.failures.push(error.message), resolve()));
      });
      req.on('error', (error) => (result.failures.push(error.message), resolve()));
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
