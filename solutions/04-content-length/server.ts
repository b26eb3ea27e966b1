// Chapter 04: a server that reads request bodies.
//
// After the head it reads exactly Content-Length more bytes (protocol.ts decides how many,
// RFC 9112 §6.3), never fewer and never more: whatever follows belongs to the next request.
// It serves POST /echo, POST /json and a small in-memory resource at /data, and refuses a
// body over 1 MiB with 413 before reading any of it.
//
// Run it:   npm run server -- 4          (the reference: npm run server -- 4 --solution)
// Try it:   curl -v --data 'héllo' http://127.0.0.1:8080/echo
// Grade it: npm run check -- 4

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BodyReader,
  CONTINUE,
  HeadReader,
  HttpError,
  asksForHead,
  parseRequestHead,
  requestBodyLength,
  serializeResponse,
  textResponse,
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

/** A request with its body, as the handlers see it. */
export interface Request extends RequestHead {
  body: Buffer;
}

/** `params` holds what the resource's pattern captured, e.g. the ID in /data/ID. */
type Handler = (request: Request, params: string[]) => Response;

interface Resource {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

const json = (status: number, value: unknown, headers: Array<[string, string]> = []): Response => ({
  status,
  headers: [['Content-Type', 'application/json'], ...headers],
  body: `${JSON.stringify(value)}\n`,
});

/** Strict UTF-8: a body that is not valid UTF-8 is not valid JSON either (RFC 8259 §8.1). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The resources, each with a store of its own for /data: one per server. */
export function createRoutes(): Resource[] {
  const store = new Map<string, { body: Buffer; type: string }>();
  let lastId = 0;
  const typeOf = (request: Request): string => request.headers.get('content-type') ?? 'application/octet-stream';
  const missing = (id: string): never => {
    throw new HttpError(404, `there is no /data/${id}`);
  };
  return [
    { pattern: /^\/$/, methods: { GET: () => textResponse(200, 'Hello, World!') } },
    { pattern: /^\/hello$/, methods: { GET: () => textResponse(200, 'Hello from the server!') } },
    {
      pattern: /^\/echo$/,
      methods: { POST: (request) => ({ status: 200, headers: [['Content-Type', typeOf(request)]], body: request.body }) },
    },
    {
      pattern: /^\/json$/,
      methods: {
        POST: (request) => {
          let value: unknown;
          try {
            value = JSON.parse(utf8.decode(request.body));
          } catch (error) {
            return json(400, { error: `the body is not valid JSON: ${(error as Error).message}` });
          }
          const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
          return json(200, { received: value, type, bytes: request.body.length });
        },
      },
    },
    {
      pattern: /^\/data$/,
      methods: {
        GET: () =>
          json(
            200,
            [...store].map(([id, item]) => ({ id, location: `/data/${id}`, type: item.type, bytes: item.body.length })),
          ),
        POST: (request) => {
          const id = String(++lastId);
          store.set(id, { body: request.body, type: typeOf(request) });
          // RFC 9110 §15.3.2: 201 Created, with Location naming the new resource.
          return json(201, { id, location: `/data/${id}` }, [['Location', `/data/${id}`]]);
        },
      },
    },
    {
      pattern: /^\/data\/([^/]+)$/,
      methods: {
        GET: (_, [id]) => {
          const item = store.get(id!) ?? missing(id!);
          return { status: 200, headers: [['Content-Type', item.type]], body: item.body };
        },
        PUT: (request, [id]) => {
          if (!store.has(id!)) missing(id!);
          store.set(id!, { body: request.body, type: typeOf(request) });
          return { status: 204 };
        },
        DELETE: (_, [id]) => {
          if (!store.delete(id!)) missing(id!);
          return { status: 204 };
        },
      },
    },
  ];
}

/** The methods a resource allows: its own, and HEAD wherever GET is (RFC 9110 §9.3.2). */
function allowed(resource: Resource): string[] {
  const methods = Object.keys(resource.methods);
  const get = methods.indexOf('GET');
  if (get >= 0) methods.splice(get + 1, 0, 'HEAD');
  return methods;
}

/** Decides the response to a request, or throws the HttpError that answers it. */
export function route(routes: Resource[], request: Request): Response {
  if (!KNOWN_METHODS.has(request.method)) {
    throw new HttpError(501, `the method ${request.method} is not implemented here`);
  }
  let params: string[] = [];
  let resource: Resource | undefined;
  for (const candidate of routes) {
    const match = candidate.pattern.exec(request.path);
    if (!match) continue;
    resource = candidate;
    params = match.slice(1);
    break;
  }
  if (!resource) throw new HttpError(404, `there is nothing at ${request.path}`);
  // HEAD is answered exactly as GET, and serializeResponse leaves the body out.
  const handler = resource.methods[request.method === 'HEAD' ? 'GET' : request.method];
  if (!handler) {
    const allow = allowed(resource).join(', ');
    throw new HttpError(405, `${request.path} allows ${allow}, not ${request.method}`, [['Allow', allow]]);
  }
  return handler(request, params);
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
 * RFC 9110 §10.1.1: a client that sends Expect: 100-continue waits for a 100 before it
 * sends the body. Any other expectation is one we cannot meet: 417. HTTP/1.0 clients
 * know no expectations, so theirs are ignored.
 */
function expectsContinue(request: RequestHead): boolean {
  const expect = request.headers.get('expect');
  if (expect === undefined || request.version === 'HTTP/1.0') return false;
  if (expect.toLowerCase() !== '100-continue') throw new HttpError(417, `cannot meet the expectation "${expect}"`);
  return true;
}

/**
 * One connection: the head, then exactly as many body bytes as it announced, then one
 * answer. `respond` feeds it each chunk and returns the answer once there is one.
 */
export function connection(routes: Resource[], onError: (error: unknown) => void, sendContinue: () => void) {
  const heads = new HeadReader();
  let head: Buffer | undefined;
  let request: RequestHead | undefined;
  let body: BodyReader | undefined;
  return function respond(chunk: Buffer): Buffer | null {
    try {
      if (!request || !body) {
        const parts = heads.push(chunk);
        if (!parts) return null; // not the whole head yet
        head = parts.head;
        request = parseRequestHead(head);
        // Decided from the head alone: a body too large is refused before it is read.
        body = new BodyReader(requestBodyLength(request.headers));
        if (expectsContinue(request) && body.length > 0 && parts.rest.length === 0) sendContinue();
        chunk = parts.rest;
      }
      const parts = body.push(chunk);
      if (!parts) return null; // not the whole body yet
      // Bytes after the body (parts.rest) would be the next request; this server answers one.
      return serializeResponse(route(routes, { ...request, body: parts.body }), request.method === 'HEAD');
    } catch (error) {
      // A head refused before it was whole (431) may still be a HEAD's: then no body.
      return failure(error, onError, asksForHead(head ?? heads.peek(5)));
    }
  };
}

export function handleConnection(socket: net.Socket, routes: Resource[], onError: (error: unknown) => void): void {
  const respond = connection(routes, onError, () => socket.write(CONTINUE));
  let answered = false;
  socket.on('data', (chunk: Buffer) => {
    // After our answer we said Connection: close; whatever else comes is read and dropped.
    if (answered) return;
    let response: Buffer | null;
    try {
      response = respond(chunk);
    } catch (error) {
      // Even the error response failed: all that is left is to hang up.
      onError(error);
      socket.destroy();
      return;
    }
    if (!response) return; // wait for the next chunk
    answered = true;
    // end() sends our bytes, then a FIN, and keeps reading (and discarding) whatever the
    // client still sends: closing with unread bytes would make the kernel send a reset,
    // which can destroy the response before the client reads it (RFC 9112 §9.6).
    socket.end(response);
  });
  // A client that hangs up halfway costs nothing more: its bytes go with the socket.
}

export function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const sockets = new Set<net.Socket>();
  const routes = createRoutes();

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
      handleConnection(socket, routes, onError);
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
