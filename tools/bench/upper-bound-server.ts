// The upper bound of the benchmark: a server that parses nothing. For every end of a request
// head (`\r\n\r\n`) that arrives it writes the same canned answer, and it closes when a
// request asks it to. No HTTP server on this machine can answer faster than this one, so a
// ratio to it says how much of the machine's limit a real server reaches.

import net from 'node:net';

const ANSWER = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!');
const CLOSE_ANSWER = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!');
const END = Buffer.from('\r\n\r\n');
const CLOSE = Buffer.from('onnection: close');

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let tail: Buffer = Buffer.alloc(0); // the last 3 bytes, in case an end is split between reads
  socket.on('data', (chunk: Buffer) => {
    const bytes = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
    let count = 0;
    for (let at = bytes.indexOf(END); at !== -1; at = bytes.indexOf(END, at + 4)) count++;
    tail = bytes.subarray(Math.max(0, bytes.length - 3));
    if (count === 0) return;
    if (bytes.includes(CLOSE)) {
      socket.end(CLOSE_ANSWER);
      return;
    }
    socket.write(count === 1 ? ANSWER : Buffer.concat(Array.from({ length: count }, () => ANSWER)));
  });
  socket.on('error', () => socket.destroy());
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`listening on http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
