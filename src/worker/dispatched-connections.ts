// A worker's side of connection dispatch (see src/ipc/dispatch-messages.ts):
// offer idle slots, receive sockets with the bytes the arbiter already read, and
// say at once whether each is taken (the arbiter then closes its copy) or
// declined (it goes to another worker). All on node's fd-passing channel.
import type { Socket } from 'node:net';
import { type DispatchFromWorker, isHandedConnection } from '../ipc/dispatch-messages.js';
import type { ConnectionDispatch } from '../kinds/contract.js';

const tell = (message: DispatchFromWorker) => {
  // The channel is gone only when the arbiter is: the worker is on its way out then.
  if (process.connected) process.send!(message);
};

export function dispatchedConnections(): ConnectionDispatch {
  return {
    offer: () => tell({ type: 'corral:idle' }),
    onConnection(take) {
      process.on('message', (message: unknown, socket?: Socket) => {
        if (!isHandedConnection(message) || !socket) return;
        // Decided in the same turn as the socket arrived, before this process could read from it. A kind
        // that throws while taking it has touched it: taken, so no other worker serves it too.
        let taken = true;
        try {
          taken = take(socket, Buffer.from(message.head, 'base64'));
        } finally {
          if (taken) tell({ type: 'corral:took', id: message.id });
          else {
            socket.destroy();
            tell({ type: 'corral:declined', id: message.id });
          }
        }
      });
    },
  };
}
