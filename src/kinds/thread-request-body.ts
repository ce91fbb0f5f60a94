// Reads a request body whole into an ArrayBuffer of its own, so it can be
// transferred to a pool thread instead of copied.
import type { IncomingMessage } from 'node:http';

const hasBody = (req: IncomingMessage) => {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
};

/** Resolves with the body, or null when there is none; rejects when the client goes away mid-body. */
export function readRequestBody(req: IncomingMessage): Promise<ArrayBuffer | null> {
  if (!hasBody(req)) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.byteLength;
    });
    req.once('end', () => {
      if (length === 0) return resolve(null);
      // Node's chunks may be views into a shared pool; a fresh buffer is the request's alone.
      const body = new Uint8Array(new ArrayBuffer(length));
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.byteLength;
      }
      resolve(body.buffer);
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}
