// Chapter 07: a server that stays responsive while it works.
//
// One thread serves every connection: Node reads and writes sockets without waiting on any
// of them, so the chapter 06 server already serves many clients at once. What it cannot do
// is compute. GET /slow waits on a timer and blocks nobody; GET /cpu computes, and on the
// one thread that would freeze every connection until it is done. So CPU jobs go to a fixed
// pool of worker threads with a bounded queue (pool.ts), and a full queue answers 503. With
// CLUSTER_WORKERS=N, N processes share the port, each a whole server. Ctrl-C finishes what is
// in flight before it exits.
//
// Run it:   npm run server -- 7          (the reference: npm run server -- 7 --solution)
// Try it:   curl 'http://127.0.0.1:8080/cpu?n=2000000' & curl http://127.0.0.1:8080/
//           CLUSTER_WORKERS=2 npm run server -- 7, then curl http://127.0.0.1:8080/info
// Grade it: npm run check -- 7

import cluster from 'node:cluster';
import net from 'node:net';
import os from 'node:os';
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
import { JobError, PoolFullError, WorkerPool, type PoolStats } from './pool.ts';

export interface ServerOptions {
  /** Interface to listen on. */
  host?: string;
  /** 0 asks the operating system for any free port (the tests do that). */
  port?: number;
  /** Called with every error the server catches, so nothing is lost silently. */
  onError?: (error: unknown) => void;
  /** How long a connection may sit idle before the server closes it. */
  idleTimeoutMs?: number;
  /** Threads for CPU jobs; 0 runs them on the thread that serves the connections. */
  poolSize?: number;
  /** CPU jobs that may wait for a thread; one more is answered 503. */
  queueLimit?: number;
}

/** How long an idle connection is kept: Node's keepAliveTimeout; nginx waits 75 s. */
const IDLE_TIMEOUT_MS = 5_000;
/** One thread per core: more threads than cores only take turns on them. */
const POOL_SIZE = os.availableParallelism();
/** A default job takes about a second, so the last in a full queue waits about 16 s / threads. */
const QUEUE_LIMIT = 16;
/** What a 503 tells the client to wait (RFC 9110 §10.2.3): about one default job. */
const RETRY_AFTER_SECONDS = 1;
/** GET /slow waits this long unless asked otherwise, and never longer than the maximum. */
const SLOW_DEFAULT_MS = 1_000;
const SLOW_MAX_MS = 60_000; // a minute: long enough to watch, short enough to end
/** Rounds of SHA-256 for GET /cpu: about a second on one core of the machine the course was built on. */
const CPU_DEFAULT_N = 1_000_000;
const CPU_MAX_N = 10_000_000; // about ten seconds: a bound on what one request can cost
/** On Ctrl-C, requests in flight get this long to finish before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

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
  /** Stops accepting, cuts every open connection and stops the pool; resolves when all are gone. */
  close(): Promise<void>;
  /**
   * Stops accepting and lets what is in flight finish: idle connections close at once, the
   * others after their answers (or after graceMs, cut). Then the pool stops.
   */
  shutdown(graceMs?: number): Promise<void>;
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

/**
 * `params` holds what the resource's pattern captured, e.g. the ID in /data/ID. A handler
 * that waits (on a timer, on a thread) returns a promise of its response.
 */
type Handler = (request: Request, params: string[], connection: ConnectionInfo) => Response | Promise<Response>;

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

/** A whole number from a query parameter, in [min, max]; else a 400 that says what is allowed. */
function wholeNumber(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = query.get(name);
  if (text === null) return fallback;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new HttpError(400, `${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  return value;
}

/** What GET /info says about the process and its pool, beside the connection. */
function processInfo(pool: WorkerPool): { pid: number; worker: number | null; pool: PoolStats } {
  return { pid: process.pid, worker: cluster.worker?.id ?? null, pool: pool.stats() };
}

/** The resources, each with a store of its own for /data: one per server. */
export function createRoutes(pool: WorkerPool): Resource[] {
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
        GET: (_, __, connection) =>
          json(200, { connection: connection.id, peer: connection.peer, requests: connection.requests, ...processInfo(pool) }),
      },
    },
    {
      // GET /slow?ms=N: answers after N ms. It waits on a timer, so it holds up nobody else.
      pattern: /^\/slow$/,
      methods: {
        GET: async (request) => {
          const ms = wholeNumber(new URLSearchParams(request.query), 'ms', SLOW_DEFAULT_MS, 0, SLOW_MAX_MS);
          await new Promise((resolve) => setTimeout(resolve, ms));
          return textResponse(200, `waited ${ms} ms\n`);
        },
      },
    },
    {
      // GET /cpu?n=N: N rounds of SHA-256 on the worker pool. fail=throw or fail=exit makes
      // the job go wrong on purpose, to show that the pool survives it.
      pattern: /^\/cpu$/,
      methods: {
        GET: async (request) => {
          const query = new URLSearchParams(request.query);
          const n = wholeNumber(query, 'n', CPU_DEFAULT_N, 1, CPU_MAX_N);
          const fail = query.get('fail');
          if (fail !== null && fail !== 'throw' && fail !== 'exit') throw new HttpError(400, `fail must be "throw" or "exit", not "${fail}"`);
          try {
            return json(200, await pool.run({ n, ...(fail ? { fail } : {}) }));
          } catch (error) {
            // RFC 9110 §15.6.4: 503 says the server is overloaded for now, and Retry-After
            // says when to try again. 500 says this job failed; the next one may well not.
            if (error instanceof PoolFullError) throw new HttpError(503, error.message, [['Retry-After', String(RETRY_AFTER_SECONDS)]]);
            if (error instanceof JobError) throw new HttpError(500, `the job failed: ${error.message}`);
            throw error;
          }
        },
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

/** Decides the response to a request, or throws (or rejects with) the HttpError that answers it. */
export function route(routes: Resource[], request: Request, connection: ConnectionInfo): Response | Promise<Response> {
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

/** What the server sends for one request, and whether it closes the connection after it. */
export interface Outcome {
  answer: Buffer | Streamed;
  close: boolean;
}

/** What one chunk completed: the answers, in request order, some of them still being made. */
export interface Fed {
  outcomes: Array<Outcome | Promise<Outcome>>;
  /** Read nothing more: the last request asked to close, or could not be read. */
  close: boolean;
  /** Part of a request has arrived, and the rest has not. */
  partial: boolean;
}

// RFC 9110 §9.2.1: safe methods only read. RFC 9112 §9.3.2 lets a server work on pipelined
// requests in parallel only if they all are safe: a POST must not start before the requests
// ahead of it are done, nor a GET before the POST ahead of it.
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => value instanceof Promise;

/**
 * One connection: request after request, each a head and then exactly as many body bytes
 * as it announced. `feed` takes each chunk and returns the answers it completes; the bytes
 * after one request are the start of the next (RFC 9112 §9.3.2: pipelining), so one chunk
 * may complete several requests. A handler that waits (on a timer, on a thread) gives a
 * promise of its answer; the answers still go out in the order the requests came.
 */
export function connection(routes: Resource[], info: ConnectionInfo, onError: (error: unknown) => void): (chunk: Buffer) => Fed {
  const heads = new HeadReader();
  let head: Buffer | undefined;
  let request: RequestHead | undefined;
  let body: BodyReader | ChunkedDecoder | undefined;
  /** Settles when every handler started so far is done. */
  let running: Promise<void> | undefined;
  /** Settles when the last unsafe request, and everything before it, is done. */
  let runningUnsafe: Promise<void> | undefined;

  const outcomeOf = (request: Request, response: Response): Outcome => {
    const omitBody = request.method === 'HEAD';
    // A streamed body for an HTTP/1.0 client ends with the close: the connection goes.
    const chunked = request.version === 'HTTP/1.1';
    const keep = keepsAlive(request) && (!response.stream || chunked || omitBody);
    // Say close exactly when we close; tell an HTTP/1.0 client its keep-alive was heard.
    const connection = !keep ? 'close' : request.version === 'HTTP/1.0' ? 'keep-alive' : undefined;
    const answer = response.stream
      ? { head: serializeStreamHead(response, { connection, chunked }), body: omitBody ? undefined : response.stream, chunked }
      : serializeResponse(response, { omitBody, connection });
    return { answer, close: !keep };
  };

  /** The answer to a request whose handler failed: an error, and the connection closes. */
  const failed = (request: Request, error: unknown): Outcome => ({ answer: failure(error, onError, request.method === 'HEAD'), close: true });

  /** Runs the request's handler now; never throws. */
  const run = (request: Request): Outcome | Promise<Outcome> => {
    try {
      const response = route(routes, request, info);
      if (!isPromise(response)) return outcomeOf(request, response);
      return response.then((done) => outcomeOf(request, done)).catch((error: unknown) => failed(request, error));
    } catch (error) {
      return failed(request, error);
    }
  };

  /** Runs the request's handler, now or once the requests ahead of it allow; never throws. */
  const answer = (request: Request): Outcome | Promise<Outcome> => {
    const safe = SAFE_METHODS.has(request.method);
    const before = safe ? runningUnsafe : running;
    const outcome = before ? before.then(() => run(request)) : run(request);
    if (isPromise(outcome)) {
      const done = outcome.then(() => undefined);
      const all = running ? Promise.all([running, done]).then(() => undefined) : done;
      running = all;
      void all.then(() => running === all && (running = undefined));
      if (!safe) {
        runningUnsafe = all;
        void all.then(() => runningUnsafe === all && (runningUnsafe = undefined));
      }
    }
    return outcome;
  };

  return function feed(chunk: Buffer): Fed {
    const outcomes: Array<Outcome | Promise<Outcome>> = [];
    let pending = chunk;
    try {
      for (;;) {
        if (!request || !body) {
          const parts = heads.push(pending);
          if (!parts) return { outcomes, close: false, partial: heads.started }; // not the whole head yet
          head = parts.head;
          request = parseRequestHead(head);
          // Decided from the head alone: a body too large is refused before it is read.
          body = requestBodyReader(request);
          // The 100 goes out in turn, after the answers to the requests before this one.
          if (expectsContinue(request) && body.length > 0 && parts.rest.length === 0) outcomes.push({ answer: CONTINUE, close: false });
          pending = parts.rest;
        }
        const parts = body.push(pending);
        if (!parts) return { outcomes, close: false, partial: true }; // not the whole body yet
        info.requests += 1;
        // The body first: in Node 20, adding `body` to a new `{ ...request }` cost about 1 µs more.
        const outcome = answer({ body: parts.body, ...request });
        outcomes.push(outcome);
        // RFC 9112 §9.6: after "close", answer and read nothing more, pipelined or not.
        if (!keepsAlive(request) || (!isPromise(outcome) && outcome.close)) return { outcomes, close: true, partial: false };
        head = undefined;
        request = undefined;
        body = undefined;
        pending = parts.rest;
        if (pending.length === 0) return { outcomes, close: false, partial: false };
      }
    } catch (error) {
      // A head refused before it was whole (431) may still be a HEAD's: then no body.
      outcomes.push({ answer: failure(error, onError, asksForHead(head ?? heads.peek(5))), close: true });
      return { outcomes, close: true, partial: false };
    }
  };
}

/** What the server can ask of a connection it serves. */
export interface ConnectionHandle {
  /** Answer what is in flight, then close; close at once if nothing is. */
  shutdown(): void;
}

export function handleConnection(
  socket: net.Socket,
  routes: Resource[],
  info: ConnectionInfo,
  onError: (error: unknown) => void,
  idleTimeoutMs: number,
): ConnectionHandle {
  const feed = connection(routes, info, onError);
  /** Nothing more is read. */
  let closing = false;
  /** Nothing more is written: our FIN is on its way. */
  let ended = false;
  /** Answers decided or being made, not yet written. */
  let unanswered = 0;
  /** Part of a request has arrived. */
  let partial = false;
  /** The server is shutting down: close as soon as nothing is in flight. */
  let draining = false;
  const close = (): void => {
    closing = true;
    if (ended) return;
    ended = true;
    // end() sends a FIN after our last bytes and keeps reading (and dropping) what the
    // client still sends: closing at once with unread bytes would make the kernel send a
    // reset, which can destroy the last response before the client reads it (RFC 9112 §9.6).
    socket.end();
  };
  const closeIfIdle = (): void => {
    if (draining && unanswered === 0 && !partial) close();
  };
  // RFC 9112 §9.5: a server may close a connection that has been idle too long. Node's
  // timer fires after this long without a byte either way; a client that does not close
  // its side after our FIN is cut off the next time it fires. A connection waiting for an
  // answer (a slow job) is not idle: writing the answer starts the timer again.
  socket.setTimeout(idleTimeoutMs, () => {
    if (ended) socket.destroy();
    else if (unanswered === 0) close();
  });
  // Answers go out one after another, in the order of the requests: one still being made
  // (a slow job, a streamed body) holds back those behind it. That is head-of-line blocking.
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
    partial = fed.partial;
    // An answer that is ready, with nothing ahead of it still being made, is written at once,
    // not a promise later. cork() holds the writes until uncork(), so the answers to
    // pipelined requests leave together: one system call, not one per answer.
    const corked = fed.outcomes.length > 1;
    if (corked) socket.cork();
    for (const outcome of fed.outcomes) {
      if (queued === 0 && !isPromise(outcome) && Buffer.isBuffer(outcome.answer)) {
        if (ended) break;
        socket.write(outcome.answer);
        if (outcome.close) close();
        else closeIfIdle();
        continue;
      }
      unanswered += 1;
      send(async () => {
        const { answer, close: last } = await outcome;
        unanswered -= 1;
        if (ended) return; // an earlier answer closed the connection: this one is never sent
        await write(socket, answer);
        if (last) close();
        else closeIfIdle();
      });
    }
    if (fed.close) {
      closing = true;
      if (queued === 0) close();
      else send(close);
    }
    if (corked) socket.uncork();
  });
  return {
    shutdown(): void {
      draining = true;
      closeIfIdle();
    },
  };
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
  const connections = new Map<net.Socket, ConnectionHandle>();
  const pool = new WorkerPool({ size: options.poolSize ?? POOL_SIZE, queueLimit: options.queueLimit ?? QUEUE_LIMIT });
  const routes = createRoutes(pool);
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  let count = 0;

  // noDelay: every answer goes out as soon as it is written, not held back until the client
  // acknowledges the last one (Nagle's algorithm). node:http does the same.
  const server = net.createServer({ noDelay: true }, (socket) => {
    // A socket error without a listener would crash the whole server. A peer that hangs up
    // early (reset, broken pipe) is normal on the internet and not worth a log line.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') onError(error);
    });
    try {
      const address = socket.remoteAddress ?? '';
      const peer = `${address.includes(':') ? `[${address}]` : address}:${socket.remotePort}`; // only IPv6 has colons
      const info = { id: ++count, peer, requests: 0 };
      connections.set(socket, handleConnection(socket, routes, info, onError, idleTimeoutMs));
      socket.once('close', () => connections.delete(socket));
    } catch (error) {
      onError(error);
      socket.destroy();
    }
  });

  /** Stops accepting; resolves once every connection is gone and the pool has stopped. */
  const stop = (cut: () => void): Promise<void> =>
    new Promise<void>((done) => {
      server.close(() => void pool.close().then(done, done));
      cut();
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
        close: () => stop(() => connections.forEach((_, socket) => socket.destroy())),
        shutdown: (graceMs = SHUTDOWN_GRACE_MS) =>
          stop(() => {
            connections.forEach((handle) => handle.shutdown());
            // Whatever is still open after the grace period is cut: a shutdown must end.
            const deadline = setTimeout(() => connections.forEach((_, socket) => socket.destroy()), graceMs);
            deadline.unref();
          }),
      });
    });
  });
}

/** A positive whole number from the environment, or undefined when unset; exits on nonsense. */
function fromEnvironment(name: string, min: number): number | undefined {
  const text = process.env[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    console.error(`${name} must be a whole number of at least ${min}, not "${text}"`);
    process.exit(1);
  }
  return value;
}

async function main(): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a whole number from 0 to 65535, not "${process.env.PORT}"`);
    process.exit(1);
  }
  const idleTimeoutMs = fromEnvironment('IDLE_TIMEOUT_MS', 1);
  const workers = fromEnvironment('CLUSTER_WORKERS', 0) ?? 0;
  // Each process gets its share of the cores for its pool, unless told otherwise.
  const poolSize = fromEnvironment('POOL_SIZE', 0) ?? (workers > 0 ? Math.max(1, Math.floor(POOL_SIZE / workers)) : undefined);
  const queueLimit = fromEnvironment('QUEUE_LIMIT', 0);
  if (workers > 0 && cluster.isPrimary) return primary(workers, host);

  let server: RunningServer;
  try {
    server = await startServer({ host, port, idleTimeoutMs, poolSize, queueLimit });
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
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server
      .shutdown()
      .catch((error: unknown) => {
        console.error(`could not shut down gently (${(error as Error).message}); closing every connection now`);
        return server.close();
      })
      .then(() => process.exit(0));
  };
  // Ready for Ctrl-C before saying we are up: whoever reads the line may stop us at once.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
  if (cluster.isWorker) {
    // The primary asks its workers to stop over the IPC channel; a primary that is gone
    // (killed, crashed) cannot, so losing the channel means stop too: no orphan is left.
    process.on('message', (message) => message === 'shutdown' && stop());
    process.on('disconnect', stop);
    return;
  }
  console.log(`listening on ${new URL(server.url).origin}`);
}

/**
 * The primary process of a cluster: it forks the workers, each of which runs main() and
 * listens on the same port. The primary accepts the connections and hands each to a worker
 * in turn (round-robin, the default on all platforms but Windows). It serves nothing itself.
 */
async function primary(count: number, host: string): Promise<void> {
  let stopping = false;
  let listening = 0;
  cluster.on('listening', (worker, address) => {
    listening += 1;
    if (listening === count) {
      const shown = net.isIPv6(address.address ?? host) ? `[${address.address ?? host}]` : (address.address ?? host);
      console.log(`listening on http://${shown}:${address.port} (${count} worker processes)`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (listening < count) {
      // It never got as far as listening (a port in use, an error at start): forking again
      // would fail again, forever. Its own message says why.
      console.error(`worker ${worker.id} stopped before it could listen; stopping`);
      for (const other of Object.values(cluster.workers ?? {})) other?.kill();
      process.exit(1);
    }
    console.error(`worker ${worker.id} (pid ${worker.process.pid}) stopped (${signal ?? `exit code ${code}`}); starting another`);
    cluster.fork();
  });
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    for (const worker of workers) if (worker.isConnected()) worker.send('shutdown');
    // Each worker finishes within its grace period; one that does not is killed.
    const deadline = setTimeout(() => workers.forEach((worker) => worker.process.kill('SIGKILL')), SHUTDOWN_GRACE_MS + 2_000);
    deadline.unref();
    Promise.all(workers.map((worker) => (worker.isDead() ? undefined : new Promise((done) => worker.once('exit', done))))).then(() =>
      process.exit(0),
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
  for (let i = 0; i < count; i++) cluster.fork();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
