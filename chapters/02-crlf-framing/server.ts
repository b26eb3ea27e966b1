// Chapter 02: a server that reads the request.
//
// It parses the request line and the header fields (protocol.ts), routes GET and HEAD for
// two paths, and answers everything else with the status code the RFCs give for it: 400,
// 404, 405, 501 or 505. It still assumes that the first read holds the whole head; chapter
// 03 removes that assumption.
//
// Run it:   npm run server -- 2          (the reference: npm run server -- 2 --solution)
// Try it:   curl -v http://127.0.0.1:8080/hello
// Grade it: npm run check -- 2
//
// Yours to write: route(), marked TODO(ch02), and the three functions marked TODO(ch02) in
// protocol.ts. The socket code, and answer(), which turns errors into responses, are ready.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError, asksForHead, parseRequestHead, serializeResponse, textResponse, type RequestHead, type Response } from './protocol.ts';

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
  // TODO(ch02): 501 for a method not in KNOWN_METHODS; 404 for a path not in ROUTES; 405
  // with an Allow field (see allowed()) for a method the resource does not allow. HEAD runs
  // the GET handler. Throw an HttpError for each; return the handler's response otherwise.
  throw new Error(
    `TODO(ch02): route() in chapters/02-crlf-framing/server.ts is not written yet. It decides how to answer ${request.method} ${request.path}.`,
  );
}

/**
 * The answer to the bytes of one request. Only here do errors become responses: an
 * HttpError answers with its status, anything else is a bug in the server and answers 500.
 */
export function answer(bytes: Buffer, onError: (error: unknown) => void): Buffer {
  // RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line.
  let start = 0;
  while (bytes[start] === 0x0d && bytes[start + 1] === 0x0a) start += 2;
  try {
    const end = bytes.indexOf('\r\n\r\n', start);
    if (end < 0) throw new HttpError(400, 'the head did not end (with an empty line) in the first read');
    const request = parseRequestHead(bytes.subarray(start, end));
    return serializeResponse(route(request), request.method === 'HEAD');
  } catch (error) {
    const omitBody = asksForHead(bytes.subarray(start));
    if (error instanceof HttpError) {
      return serializeResponse(textResponse(error.status, `${error.message}\n`, error.headers), omitBody);
    }
    onError(error);
    return serializeResponse(textResponse(500, 'the server failed to answer this request\n'), omitBody);
  }
}

export function handleConnection(socket: net.Socket, onError: (error: unknown) => void): void {
  // This chapter still takes the first read to be the whole head. Chapter 03 reads on until
  // the empty line arrives.
  socket.once('data', (chunk: Buffer) => {
    let response: Buffer;
    try {
      response = answer(chunk, onError);
    } catch (error) {
      // Even the error response failed: all that is left is to hang up.
      onError(error);
      socket.destroy();
      return;
    }
    // end() sends our bytes, then a FIN, and keeps reading (and discarding) whatever the
    // client still sends: closing with unread bytes would make the kernel send a reset,
    // which can destroy the response before the client reads it (RFC 9112 §9.6).
    socket.end(response);
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
