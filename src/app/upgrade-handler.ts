// Where an app takes HTTP upgrades (WebSockets). corral owns the server, so an
// app cannot add its own 'upgrade' listener; it names a handler instead:
//   - an `upgrade(req, socket, head)` method on the exported app (express, koa,
//     a `{ fetch, upgrade }` object: `app.upgrade = (req, socket, head) => wss.handleUpgrade(…)`);
//   - a fastify instance: the 'upgrade' listeners on fastify.server (where
//     @fastify/websocket puts them) are called as fastify's own server would.
import type { Server } from 'node:http';
import type { UpgradeHandler } from './app-shape.js';

type Candidate = Record<PropertyKey, unknown>;

export function upgradeHandlerOf(app: unknown, isFastify: boolean): UpgradeHandler | undefined {
  if ((typeof app !== 'object' && typeof app !== 'function') || app === null) return undefined;
  const candidate = app as Candidate;
  if (typeof candidate.upgrade === 'function') return (candidate.upgrade as UpgradeHandler).bind(app);
  const server = candidate.server as Server | undefined;
  if (isFastify && server && server.listenerCount('upgrade') > 0) {
    return (req, socket, head) => server.emit('upgrade', req, socket, head);
  }
  return undefined;
}
