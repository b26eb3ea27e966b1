// Chapter 01: the smallest correct HTTP/1.1 server.
//
// It listens on a TCP port and answers every connection with the same response, then closes
// it. It does not read the request yet: chapter 02 parses it, chapter 03 waits for all of it.
//
// Run it:   npm run server -- 1          (the reference: npm run server -- 1 --solution)
// Try it:   curl -v http://127.0.0.1:8080/
// Grade it: npm run check -- 1

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerOptions {
  /** Interface to listen on. */
  host?: string;
  /** 0 asks the operating system for any free port (the tests do that). */
  port?: number;
  /** Called with every error the server catches, so nothing is lost silently. */
  onError?: (error: unknown) => void;
}

export interface RunningServer {
  host: string;
  port: number;
  /** Where the server can be reached, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  /** Stops accepting, closes every open connection, and resolves when all are gone. */
  close(): Promise<void>;
}

const BODY = 'Hello, World!';

// RFC 9112 §4 (status-line) and §5 (field lines); every line ends in CRLF (§2.1):
//   HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
//   status-line  = HTTP-version SP status-code SP [ reason-phrase ]
export function helloResponse(): Buffer {
  const body = Buffer.from(BODY, 'utf8');
  const head =
    'HTTP/1.1 200 OK\r\n' +
    'Content-Type: text/plain\r\n' +
    // Content-Length counts bytes, not characters (RFC 9110 §8.6): measure the encoded body.
    `Content-Length: ${body.length}\r\n` +
    // We close after one response, and say so (RFC 9112 §9.6).
    'Connection: close\r\n' +
    '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export function handleConnection(socket: net.Socket): void {
  socket.once('data', () => {
    // end() sends our bytes, then a FIN. Unlike destroy() it keeps reading (and discarding)
    // whatever the client still sends: closing a socket with unread bytes makes the kernel
    // send a reset, which can destroy the response before the client reads it (RFC 9112 §9.6).
    socket.end(helloResponse());
    socket.resume();
  });
}

export function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const sockets = new Set<net.Socket>();

  // noDelay: every answer goes out as soon as it is written, not held back until the client
  // acknowledges the last one (Nagle's algorithm). node:http does the same.
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A socket error without a listener would crash the whole server. A peer that hangs up
    // early (reset, broken pipe) is normal on the internet and not worth a log line.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') onError(error);
    });
    try {
      handleConnection(socket);
    } catch (error) {
      onError(error);
      socket.destroy();
    }
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      server.on('error', onError);
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        host,
        port,
        url: `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}

async function main(): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a whole number from 0 to 65535, not "${process.env.PORT}"`);
    process.exit(1);
  }
  let server: RunningServer;
  try {
    server = await startServer({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      console.error(`port ${port} on ${host} is already in use: is another server running?`);
      console.error(`Stop it, or pick another port: PORT=8081 npx tsx ${path.relative(process.cwd(), fileURLToPath(import.meta.url))}`);
    } else {
      console.error(`could not listen on ${host}:${port}: ${(error as Error).message}`);
    }
    process.exit(1);
  }
  // Ready for Ctrl-C before saying we are up: whoever reads the line may stop us at once.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.close().then(() => process.exit(0));
    });
  }
  console.log(`listening on ${new URL(server.url).origin}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
