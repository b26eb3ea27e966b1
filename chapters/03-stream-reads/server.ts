// Chapter 03: a server that reads a stream.
//
// TCP delivers bytes, not messages: one read may hold half a request, or a request and a
// half. This server keeps the bytes of each connection in a HeadReader (protocol.ts) until
// the empty line arrives, however the request was split, and refuses a head over 16 KiB with
// 431. Routing and every answer are chapter 02's.
//
// Run it:   npm run server -- 3          (the reference: npm run server -- 3 --solution)
// Try it:   curl -v http://127.0.0.1:8080/hello
// Grade it: npm run check -- 3
//
// Yours to write: handleConnection(), marked TODO(ch03), and HeadReader.push() in
// protocol.ts. answer(), failure() and respond() are ready.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HeadReader,
  HttpError,
  asksForHead,
  parseRequestHead,
  serializeResponse,
  textResponse,
  type HeadParts,
  type RequestHead,
  type Response,
} from './protocol.ts';

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

// RFC 9110 §9 defines these methods (and RFC 5789 PATCH). The server recognizes them, so a
// resource that does not allow one answers 405 and lists what it does allow; any other
// method is not implemented here: 501 (RFC 9110 §9.1). CONNECT is left out on purpose:
// it asks a proxy for a tunnel, and this server is no proxy.
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']);

type Handler = (request: RequestHead) => Response;

/** The resources, by path, and the handler for each method they allow. */
const ROUTES: Record<string, Record<string, Handler>> = {
  '/': { GET: () => textResponse(200, 'Hello, World!') },
  '/hello': { GET: () => textResponse(200, 'Hello from the server!') },
};

/** The methods a resource allows: its own, and HEAD wherever GET is (RFC 9110 §9.3.2). */
function allowed(resource: Record<string, Handler>): string[] {
  const methods = Object.keys(resource);
  const get = methods.indexOf('GET');
  if (get >= 0) methods.splice(get + 1, 0, 'HEAD');
  return methods;
}

/** Decides the response to a parsed request, or throws the HttpError that answers it. */
export function route(request: RequestHead): Response {
  if (!KNOWN_METHODS.has(request.method)) {
    throw new HttpError(501, `the method ${request.method} is not implemented here`);
  }
  const resource = ROUTES[request.path];
  if (!resource) throw new HttpError(404, `there is nothing at ${request.path}`);
  // HEAD is answered exactly as GET, and serializeResponse leaves the body out.
  const handler = resource[request.method === 'HEAD' ? 'GET' : request.method];
  if (!handler) {
    const allow = allowed(resource).join(', ');
    throw new HttpError(405, `${request.path} allows ${allow}, not ${request.method}`, [['Allow', allow]]);
  }
  return handler(request);
}

/** The answer to a complete request head (without its empty line). */
export function answer(head: Buffer, onError: (error: unknown) => void): Buffer {
  try {
    const request = parseRequestHead(head);
    return serializeResponse(route(request), request.method === 'HEAD');
  } catch (error) {
    return failure(error, onError, asksForHead(head));
  }
}

/**
 * The response to an error. Only here do errors become responses: an HttpError answers
 * with its status, anything else is a bug in the server and answers 500.
 */
export function failure(error: unknown, onError: (error: unknown) => void, omitBody = false): Buffer {
  if (error instanceof HttpError) {
    return serializeResponse(textResponse(error.status, `${error.message}\n`, error.headers), omitBody);
  }
  onError(error);
  return serializeResponse(textResponse(500, 'the server failed to answer this request\n'), omitBody);
}

/**
 * Feeds one chunk to the connection's reader: the response once the head is complete (or
 * too large), null while more bytes are needed.
 */
export function respond(reader: HeadReader, chunk: Buffer, onError: (error: unknown) => void): Buffer | null {
  let parts: HeadParts | null;
  try {
    parts = reader.push(chunk);
  } catch (error) {
    // The head is too large (431): answer without reading any more of it. It may still be
    // a HEAD's, and the answer to a HEAD never has a body (RFC 9110 §9.3.2).
    return failure(error, onError, asksForHead(reader.peek(5)));
  }
  return parts && answer(parts.head, onError);
}

export function handleConnection(socket: net.Socket, onError: (error: unknown) => void): void {
  // TODO(ch03): give this connection its own HeadReader. On every 'data' chunk, call
  // respond(reader, chunk, onError): null means "wait for more"; a Buffer is the answer.
  // Send it with socket.end(response), once: chunks that come after it are dropped. If
  // respond() throws, report the error with onError and destroy the socket.
  throw new Error(
    `TODO(ch03): handleConnection() in chapters/03-stream-reads/server.ts is not written yet. It reads a request from ${socket.remoteAddress} until the head is complete.`,
  );
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
      handleConnection(socket, onError);
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
