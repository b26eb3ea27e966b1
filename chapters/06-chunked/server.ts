// Chapter 06: a server that speaks chunked.
//
// A request body may come as chunks (Transfer-Encoding: chunked, RFC 9112 §7.1), each with
// its own size, when the client did not know the length in advance; the server decodes it
// however it is split, and refuses every framing it cannot trust. A response may go out as
// chunks too: GET /chunked streams its body piece by piece, written over time, so the client
// sees the first piece before the last is made. An HTTP/1.0 client gets the same bytes
// unchunked, ended by the close.
//
// Run it:   npm run server -- 6          (the reference: npm run server -- 6 --solution)
// Try it:   curl -v http://127.0.0.1:8080/chunked
// Grade it: npm run check -- 6
//
// Yours to write: the three pieces marked TODO(ch06) in protocol.ts. This file is ready: it
// reads chunked bodies with what requestBodyReader() returns, and streams GET /chunked.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONTINUE,
  LAST_CHUNK,
  encodeChunk,
  requestBodyReader,
  serializeStreamHead,
  type BodyReader,
  type ChunkedDecoder,
  HeadReader,
  HttpError,
  asksForHead,
  keepsAlive,
  parseRequestHead,
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
  /** How long a connection may sit idle before the server closes it. */
  idleTimeoutMs?: number;
}

/** How long an idle connection is kept: Node's keepAliveTimeout; nginx waits 75 s. */
const IDLE_TIMEOUT_MS = 5_000;

/** What a connection knows about itself, for GET /info. */
export interface ConnectionInfo {
  /** Numbered from 1, per server. */
  id: number;
  /** The client's address and port. */
  peer: string;
  /** Requests answered on this connection so far, counting the current one. */
  requests: number;
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
type Handler = (request: Request, params: string[], connection: ConnectionInfo) => Response;

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
      // GET /chunked?n=5&ms=100: n pieces (1 to 20), ms apart (0 to 1000), as they are made.
      pattern: /^\/chunked$/,
      methods: {
        GET: (request) => {
          const query = new URLSearchParams(request.query);
          const count = Math.min(20, Math.max(1, Number(query.get('n') ?? 5) || 5));
          const pause = Math.min(1000, Math.max(0, Number(query.get('ms') ?? 100) || 0));
          async function* pieces(): AsyncGenerator<string> {
            for (let i = 1; i <= count; i++) {
              if (i > 1) await new Promise((resolve) => setTimeout(resolve, pause));
              yield `piece ${i} of ${count}\n`;
            }
          }
          return { status: 200, headers: [['Content-Type', 'text/plain']], stream: pieces() };
        },
      },
    },
    {
      pattern: /^\/info$/,
      methods: {
        GET: (_, __, connection) => json(200, { connection: connection.id, peer: connection.peer, requests: connection.requests }),
      },
    },
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
export function route(routes: Resource[], request: Request, connection: ConnectionInfo): Response {
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
  return handler(request, params, connection);
}

/**
 * The response to an error, which closes the connection. Only here do errors become
 * responses: an HttpError answers with its status, anything else is a bug in the server
 * and answers 500.
 */
export function failure(error: unknown, onError: (error: unknown) => void, omitBody = false): Buffer {
  // After an error the server closes: where the next request starts may be unknown (RFC
  // 9112 §9.6), and the simple rule is the safe one.
  if (error instanceof HttpError) {
    return serializeResponse(textResponse(error.status, `${error.message}\n`, error.headers), { omitBody, connection: 'close' });
  }
  onError(error);
  return serializeResponse(textResponse(500, 'the server failed to answer this request\n'), { omitBody, connection: 'close' });
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

/** A response whose body is written piece by piece, after its head. */
export interface Streamed {
  head: Buffer;
  /** Absent for HEAD: the head says what GET would get, and no body follows. */
  body?: AsyncIterable<Buffer | string>;
  chunked: boolean;
}

/** What one chunk completed: the answers, in order, and whether to close after them. */
export interface Fed {
  responses: Array<Buffer | Streamed>;
  close: boolean;
}

/**
 * One connection: request after request, each a head and then exactly as many body bytes
 * as it announced. `feed` takes each chunk and returns the answers it completes; the bytes
 * after one request are the start of the next (RFC 9112 §9.3.2: pipelining), so one chunk
 * may complete several requests, answered in the order they came.
 */
export function connection(routes: Resource[], info: ConnectionInfo, onError: (error: unknown) => void): (chunk: Buffer) => Fed {
  const heads = new HeadReader();
  let head: Buffer | undefined;
  let request: RequestHead | undefined;
  let body: BodyReader | ChunkedDecoder | undefined;
  return function feed(chunk: Buffer): Fed {
    const responses: Array<Buffer | Streamed> = [];
    let pending = chunk;
    try {
      for (;;) {
        if (!request || !body) {
          const parts = heads.push(pending);
          if (!parts) return { responses, close: false }; // not the whole head yet
          head = parts.head;
          request = parseRequestHead(head);
          // Decided from the head alone: a body too large is refused before it is read.
          body = requestBodyReader(request);
          // The 100 goes out in turn, after the answers to the requests before this one.
          if (expectsContinue(request) && body.length > 0 && parts.rest.length === 0) responses.push(CONTINUE);
          pending = parts.rest;
        }
        const parts = body.push(pending);
        if (!parts) return { responses, close: false }; // not the whole body yet
        info.requests += 1;
        // The body first: in Node 20, adding `body` to a new `{ ...request }` cost about 1 µs more.
        const response = route(routes, { body: parts.body, ...request }, info);
        const omitBody = request.method === 'HEAD';
        // A streamed body for an HTTP/1.0 client ends with the close: the connection goes.
        const chunked = request.version === 'HTTP/1.1';
        const keep = keepsAlive(request) && (!response.stream || chunked || omitBody);
        // Say close exactly when we close; tell an HTTP/1.0 client its keep-alive was heard.
        const connection = !keep ? 'close' : request.version === 'HTTP/1.0' ? 'keep-alive' : undefined;
        if (response.stream) {
          responses.push({ head: serializeStreamHead(response, { connection, chunked }), body: omitBody ? undefined : response.stream, chunked });
        } else {
          responses.push(serializeResponse(response, { omitBody, connection }));
        }
        // RFC 9112 §9.6: after "close", answer and read nothing more, pipelined or not.
        if (!keep) return { responses, close: true };
        head = undefined;
        request = undefined;
        body = undefined;
        pending = parts.rest;
        if (pending.length === 0) return { responses, close: false };
      }
    } catch (error) {
      // A head refused before it was whole (431) may still be a HEAD's: then no body.
      responses.push(failure(error, onError, asksForHead(head ?? heads.peek(5))));
      return { responses, close: true };
    }
  };
}

export function handleConnection(
  socket: net.Socket,
  routes: Resource[],
  info: ConnectionInfo,
  onError: (error: unknown) => void,
  idleTimeoutMs: number,
): void {
  const feed = connection(routes, info, onError);
  let closing = false;
  const close = (): void => {
    closing = true;
    // end() sends a FIN after our last bytes and keeps reading (and dropping) what the
    // client still sends: closing at once with unread bytes would make the kernel send a
    // reset, which can destroy the last response before the client reads it (RFC 9112 §9.6).
    socket.end();
  };
  // RFC 9112 §9.5: a server may close a connection that has been idle too long. Node's
  // timer fires after this long without a byte either way; a client that does not close
  // its side after our FIN is cut off the next time it fires.
  socket.setTimeout(idleTimeoutMs, () => (closing ? socket.destroy() : close()));
  // Answers go out one after another, in the order of the requests: a streamed one holds
  // back those behind it until its last chunk is written.
  let sending = Promise.resolve();
  /** Steps on `sending` not yet done: while there are any, no answer may jump ahead of them. */
  let queued = 0;
  const send = (step: () => void | Promise<void>): void => {
    queued += 1;
    sending = sending
      .then(step)
      .catch((error: unknown) => {
        onError(error);
        socket.destroy();
      })
      .finally(() => (queued -= 1));
  };
  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    let fed: Fed;
    try {
      fed = feed(chunk);
    } catch (error) {
      // Even the error response failed: all that is left is to hang up.
      onError(error);
      socket.destroy();
      return;
    }
    // An answer made of bytes, with nothing ahead of it still being sent, is written at once,
    // not a promise later. cork() holds the writes until uncork(), so the answers to
    // pipelined requests leave together: one system call, not one per answer.
    const corked = fed.responses.length > 1;
    if (corked) socket.cork();
    for (const response of fed.responses) {
      if (queued === 0 && Buffer.isBuffer(response)) socket.write(response);
      else send(() => write(socket, response));
    }
    if (fed.close) {
      closing = true;
      if (queued === 0) close();
      else send(close);
    }
    if (corked) socket.uncork();
  });
}

/** Writes one answer: bytes at once, or a head and then each piece as it is made. */
async function write(socket: net.Socket, response: Buffer | Streamed): Promise<void> {
  if (Buffer.isBuffer(response)) {
    socket.write(response);
    return;
  }
  socket.write(response.head);
  if (!response.body) return;
  for await (const piece of response.body) {
    if (socket.destroyed) return;
    const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    // An empty chunk would read as the last one (RFC 9112 §7.1): nothing to send, skip it.
    if (bytes.length === 0) continue;
    socket.write(response.chunked ? encodeChunk(bytes) : bytes);
  }
  if (response.chunked) socket.write(LAST_CHUNK);
}

export function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const sockets = new Set<net.Socket>();
  const routes = createRoutes();
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  let connections = 0;

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
      const address = socket.remoteAddress ?? '';
      const peer = `${address.includes(':') ? `[${address}]` : address}:${socket.remotePort}`; // only IPv6 has colons
      const info = { id: ++connections, peer, requests: 0 };
      handleConnection(socket, routes, info, onError, idleTimeoutMs);
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
  const idle = process.env.IDLE_TIMEOUT_MS;
  const idleTimeoutMs = idle === undefined ? undefined : Number(idle);
  if (idleTimeoutMs !== undefined && !(Number.isInteger(idleTimeoutMs) && idleTimeoutMs > 0)) {
    console.error(`IDLE_TIMEOUT_MS must be a whole number of milliseconds above 0, not "${idle}"`);
    process.exit(1);
  }
  let server: RunningServer;
  try {
    server = await startServer({ host, port, idleTimeoutMs });
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
