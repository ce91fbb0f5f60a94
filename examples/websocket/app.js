// WebSockets with the ws package, next to ordinary requests: `corral examples/websocket/app.js`.
// corral owns the HTTP server, so the app takes upgrades through an `upgrade`
// method on what it exports; ws's noServer mode does the handshake.
import { WebSocketServer } from 'ws';

const sockets = new WebSocketServer({ noServer: true });

sockets.on('connection', (socket, req) => {
  socket.send(`hello from ${process.pid} on ${req.url}`);
  socket.on('message', (data, isBinary) => socket.send(isBinary ? data : `echo: ${data}`, { binary: isBinary }));
});

export default function app(req, res) {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('connect a WebSocket client to /chat\n');
}

app.upgrade = (req, socket, head) => {
  if (req.url !== '/chat') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
};
