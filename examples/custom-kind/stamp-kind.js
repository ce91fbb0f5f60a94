// A custom worker kind: `corral -k ./examples/custom-kind/stamp-kind.js app.js`.
// It meets the same contract as corral's own kinds: listen on the inherited
// sockets, report KIND.LISTENING, keep the counters, drain on DRAIN and report
// KIND.DRAINED, and cut everything when stopped. This one serves every app shape
// corral recognises and stamps each response with the kind that served it.
import http from 'node:http';
import net from 'node:net';
import { fromCallback, requestListenerFor } from 'corral';

export default {
  name: 'stamp',
  description: 'node http, one server per listener, with an X-Served-By header',
  connections: 'shared',
  create({ listeners, settings, counters, logger }) {
    return fromCallback(({ input, sendBack, receive }) => {
      // input.app is the recognised app (node- or fetch-style); this makes it one (req, res) listener.
      const app = requestListenerFor(input.app, logger);
      const servers = listeners.map((listener) => {
        const server = http.createServer((req, res) => {
          counters.inFlight += 1;
          res.once('close', () => {
            counters.inFlight -= 1;
            counters.served += 1;
          });
          res.setHeader('x-served-by', 'stamp-kind');
          try {
            app(req, res);
          } catch (error) {
            logger.error(`stamp kind: ${error.stack}`);
            res.statusCode = 500;
            res.end();
          }
        });
        server.keepAliveTimeout = settings.keepAlive * 1000;
        return server;
      });
      let listening = 0;
      for (const [index, server] of servers.entries()) {
        server.on('error', (error) => sendBack({ type: 'KIND.FAILED', message: error.message }));
        server.listen({ fd: listeners[index].fd, backlog: settings.backlog }, () => {
          listening += 1;
          if (listening === servers.length) sendBack({ type: 'KIND.LISTENING' });
        });
      }
      receive((command) => {
        if (command.type !== 'DRAIN') return;
        let open = servers.length;
        // Stop accepting; let keep-alive connections end on their own.
        for (const server of servers) net.Server.prototype.close.call(server, () => --open === 0 && sendBack({ type: 'KIND.DRAINED' }));
      });
      return () => servers.forEach((server) => (server.close(), server.closeAllConnections()));
    });
  },
};
