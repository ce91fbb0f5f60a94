// A free TCP port on 127.0.0.1, for peers that must bind a known port (node:cluster's
// workers all bind the same one; PM2's app cannot report the one it got).
import net from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
