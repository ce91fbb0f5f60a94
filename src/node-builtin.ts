// One of node's own modules, loaded when first needed rather than at start: a
// worker serving plain HTTP/1.1 loads neither node:http2 nor node:tls (with
// node:crypto), nor node:tty unless it writes to a terminal. A plain require:
// node:module is loaded anyway, and a top-level await here would stop this file
// loading as CommonJS (as tsx loads it for a TypeScript config file).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Node's module `id` (as `node:http2`), loaded on the first call: `nodeBuiltin<typeof import('node:http2')>('node:http2')`. */
export const nodeBuiltin = <Module>(id: `node:${string}`): Module => require(id) as Module;
