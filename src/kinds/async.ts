// The async kind: node's http server on the event loop, many connections per
// process, keep-alive, pipelining, WebSocket upgrades handed to the app. The
// gevent/tornado role for Node apps.
import { fromCallback } from 'xstate';
import type { RecognisedApp } from '../app/recognise-app.js';
import { requestListenerFor } from '../http/request-listener.js';
import { withRequestTimeout } from '../http/request-timeout.js';
import type { KindDependencies, WorkerKind } from './contract.js';
import { listeningHttp } from './listening-http.js';
import { spreadAccepts } from './spread-accepts.js';

function create(dependencies: KindDependencies) {
  return fromCallback<{ type: 'DRAIN' }, { app: unknown }>(({ input, sendBack, receive }) => {
    const app = input.app as RecognisedApp;
    // Node-style apps are served as they are; only fetch-style ones go through the adapter.
    const { settings, counters, logger } = dependencies;
    const handle = withRequestTimeout(requestListenerFor(app, logger), settings.requestTimeout, counters, logger);
    // Workers that accept side by side share out a burst of connections.
    const accepted = settings.workers > 1 ? spreadAccepts() : undefined;
    const http = listeningHttp({ dependencies, sendBack, handle, upgrade: app.upgrade, accepted });
    http.listen();
    receive((command) => {
      if (command.type === 'DRAIN') http.drain();
    });
    return () => http.stop();
  });
}

export const asyncKind: WorkerKind = {
  name: 'async',
  description: 'event loop, many connections per process, keep-alive',
  create,
};
