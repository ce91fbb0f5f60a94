// An express app, as CommonJS: `corral examples/express/app.cjs`.
// express apps are node-style (req, res, next) handlers, served as they are.
const express = require('express');

const app = express();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

app.get('/', (req, res) => res.json({ framework: 'express', pid: process.pid }));

app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));

app.post('/echo', express.json(), (req, res) => res.json(req.body));

// Five chunks, 50 ms apart: each reaches the client as it is written.
app.get('/stream', async (req, res) => {
  res.type('text/plain');
  for (let index = 1; index <= 5; index += 1) {
    res.write(`chunk ${index}\n`);
    await sleep(50);
  }
  res.end();
});

// Counts the body as it streams in, without holding it in memory.
app.post('/upload', async (req, res) => {
  let bytes = 0;
  for await (const chunk of req) bytes += chunk.length;
  res.json({ bytes });
});

// express answers 500 itself and logs the stack to stderr.
app.get('/boom', () => {
  throw new Error('boom from express');
});

module.exports = app;
