// Baseline peer: one bare Node process, no supervisor, no cluster.
import http from 'node:http';
import app from '../../examples/test.js';

const server = http.createServer(app);

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

// Exit 0 on SIGTERM so the harness can tell a clean stop from a crash.
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
