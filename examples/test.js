// The smallest app corral serves: a node-style (req, res) handler.
// `corral examples/test.js` uses the default export; `corral test:app` (from examples/) the named one.
export default function app(req, res) {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('Hello, World!\n');
}

export { app };
