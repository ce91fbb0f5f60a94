// 100 KB responses: what moving bytes, rather than handling requests, costs.
const body = Buffer.alloc(100 * 1024, 'corral ');

export default function large(req, res) {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
}
