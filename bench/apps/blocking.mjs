// A request handler that blocks whatever runs it for 10 ms, as a synchronous
// database driver or a CPU-bound step would: Atomics.wait parks the thread
// (no CPU used), so the figures measure concurrency, not core count.
const BLOCK_MS = 10;
const parked = new Int32Array(new SharedArrayBuffer(4));
const body = `blocked ${BLOCK_MS} ms\n`;

export default function blocking(req, res) {
  Atomics.wait(parked, 0, 0, BLOCK_MS);
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
