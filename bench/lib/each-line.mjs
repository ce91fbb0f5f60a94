// Reads a child's stdout and stderr line by line for its whole life, so a
// chatty server never blocks on a full pipe.
export function eachLine(child, onLine) {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) onLine(line);
    });
  }
}
