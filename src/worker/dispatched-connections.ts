// A worker's side of connection dispatch: offer idle slots over the msgpack
// pipe, receive the sockets themselves over node's fd channel.
import type { Socket } from 'node:net';
import { DISPATCH_MESSAGE } from '../arbiter/connection-dispatcher.js';
import type { Channel } from '../ipc/channel.js';
import type { WorkerToArbiter } from '../ipc/protocol.js';
import type { ConnectionDispatch } from '../kinds/contract.js';

export function dispatchedConnections(channel: Channel<WorkerToArbiter>): ConnectionDispatch {
  return {
    offer: () => channel.send({ type: 'idle' }),
    onConnection(handler) {
      process.on('message', (message: { type?: string } | undefined, socket?: Socket) => {
        if (message?.type === DISPATCH_MESSAGE && socket) handler(socket);
      });
    },
  };
}
