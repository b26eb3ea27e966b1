// The peer of the benchmark: node:http with the same routes and the same response bytes as
// the course's server, as far as node:http lets them be the same. It adds
// `Connection: keep-alive` and `Keep-Alive: timeout=5` to every answer; the Date field is
// turned off, since the course's server does not send one.

import http from 'node:http';

const HELLO = 'Hello, World!';

const server = http.createServer((request, response) => {
  response.sendDate = false;
  if (request.url === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(HELLO) });
    response.end(request.method === 'HEAD' ? undefined : HELLO);
    return;
  }
  response.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 10 });
  response.end('Not Found\n');
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`listening on http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
