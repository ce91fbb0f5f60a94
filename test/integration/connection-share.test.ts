// Keep-alive connections a client opened while one worker accepted alone are
// shared out once its siblings listen: the worker over the pool's fair share
// (told by the arbiter in answer to its heartbeats) ends the excess after a
// response, with Connection: close, and the clients reconnect to the others.
// Nothing else moves a keep-alive connection, so without it they would all stay
// on the first worker for as long as the client keeps them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, waitUntil, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';
import { RawConnection } from '../helpers/raw-http.js';

const CONNECTIONS = 40;
const WORKERS = 4;
const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

/** A client holding CONNECTIONS keep-alive connections, reconnecting any the server ends, as a pool (wrk, a proxy) does. */
class Pool {
  private readonly connections: (RawConnection | undefined)[] = new Array(CONNECTIONS).fill(undefined);
  /** The worker that answered last on each connection still open. */
  readonly servedBy: (number | undefined)[] = new Array(CONNECTIONS).fill(undefined);
  reconnects = 0;

  constructor(private readonly port: number) {}

  /** One request on every connection at once; a connection the server ends is reopened and asked again at once. */
  async round(): Promise<void> {
    await Promise.all(
      this.connections.map(async (_, index) => {
        for (let attempt = 0; attempt < 20; attempt += 1) {
          const connection = this.connections[index] ?? (await RawConnection.open(this.port));
          this.connections[index] = connection;
          await connection.write(GET);
          const response = await connection.readResponse({ deadlineMs: 10_000 });
          assert.is(response.status, 200);
          this.servedBy[index] = Number(response.text);
          if (response.headers.connection !== 'close') return;
          connection.destroy();
          this.connections[index] = undefined;
          this.reconnects += 1;
        }
      }),
    );
  }

  /** How many of the open connections each worker holds. */
  held(): Map<number, number> {
    const held = new Map<number, number>();
    this.servedBy.forEach((pid, index) => {
      if (pid !== undefined && this.connections[index]) held.set(pid, (held.get(pid) ?? 0) + 1);
    });
    return held;
  }

  close() {
    for (const connection of this.connections) connection?.destroy();
  }
}

test('a pool of keep-alive connections piled on one worker is shared out once the others listen', async () => {
  const gate = mkdtempSync(join(tmpdir(), 'corral-share-'));
  try {
    await withCorral(
      ['-w', String(WORKERS), '-b', '127.0.0.1:0', '--no-control-socket', fixture('gated-workers-app.js')],
      async (corral) => {
        // Not ready(), which waits for every worker: the first listens alone, once it answers.
        const url = (await corral.waitForLine(/Listening at: (http:\S+)/)).match[1];
        await waitUntil(() => request(url).then(() => true, () => false), { timeoutMs: 10_000, what: 'the first worker to answer' });
        const pool = new Pool(Number(new URL(url).port));
        try {
          await pool.round();
          const [first, ...others] = new Set(pool.servedBy);
          assert.equal(others, [], 'only the first worker listens yet, so it holds every connection');
          writeFileSync(join(gate, 'open'), '');

          const fairShare = Math.ceil(CONNECTIONS / WORKERS);
          let rounds = 0;
          await waitUntil(
            async () => {
              await pool.round();
              rounds += 1;
              return Math.max(...pool.held().values()) <= fairShare + 1;
            },
            { timeoutMs: 30_000, what: `no worker holding more than ${fairShare + 1} of ${CONNECTIONS} connections` },
          ).catch((error: Error) => {
            throw new Error(`${error.message}; held per worker: ${JSON.stringify([...pool.held()])}, ${pool.reconnects} reconnects in ${rounds} rounds`);
          });
          const held = pool.held();
          assert.is(held.size, WORKERS, `every worker serves some: ${JSON.stringify([...held])}`);
          assert.ok((held.get(first!) ?? 0) <= fairShare + 1);
          // Ended connections land where they may (a few times over for some): not every response ends one.
          assert.ok(pool.reconnects < CONNECTIONS * 10, `${pool.reconnects} reconnects in ${rounds} rounds`);
        } finally {
          pool.close();
        }
      },
      { env: { GATE_DIR: gate } },
    );
  } finally {
    rmSync(gate, { recursive: true, force: true });
  }
});

test('one worker alone keeps every keep-alive connection it holds', async () => {
  const gate = mkdtempSync(join(tmpdir(), 'corral-share-'));
  try {
    await withCorral(
      ['-w', '1', '-b', '127.0.0.1:0', '--no-control-socket', fixture('gated-workers-app.js')],
      async (corral) => {
        const [url] = await corral.ready();
        const pool = new Pool(Number(new URL(url).port));
        try {
          // Past a few heartbeats: a worker with no sibling is never told a share, so it ends none.
          const rounds = 300;
          for (let round = 0; round < rounds; round += 1) await pool.round();
          assert.is(pool.reconnects, 0);
        } finally {
          pool.close();
        }
      },
      { env: { GATE_DIR: gate } },
    );
  } finally {
    rmSync(gate, { recursive: true, force: true });
  }
});

test.run();
