// Chapter 08: security limits. Every limit is an option (head, target, header fields, body,
// head and body timeouts, requests per connection, connections); each broken limit gets the
// status the RFCs name, and the connection closes. Slow clients (slowloris) get 408 while
// others are served; the connection over the cap gets 503. GET /static/ serves public/ and
// nothing outside it, however the path is written. Random and mutated requests never crash
// the server or leave it hanging. The client survives hostile servers.
//
// Tests named "recap: ..." check rules that earlier chapters taught, as rows of the rules
// table. The starter is built on the earlier references, so npm test does not ask it to fail
// them (most do fail on it all the same: its checkLimits() stub stops every complete head).

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill } from './cases/requests.ts';
import {
  RawConnection,
  SEED,
  callClient,
  contentLengthResponseEnd,
  encodeChunked,
  exchange,
  expectClosed,
  expectResponse,
  fail,
  failServer,
  fieldValues,
  loadImplementation,
  random,
  randomPieces,
  readHead,
  rejectionOf,
  replay,
  splitResponses,
  startScriptedServer,
  startServerUnderTest,
  statusOf,
  type ServerContract,
  type ServerUnderTest,
} from './harness/index.ts';

interface Limits {
  maxHeadBytes?: number;
  maxTargetBytes?: number;
  maxHeaderFields?: number;
  maxBodyBytes?: number;
}
interface ServerOptions {
  limits?: Limits;
  headTimeoutMs?: number;
  bodyTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxRequestsPerConnection?: number;
  maxConnections?: number;
  publicDir?: string;
}
interface ClientLimits {
  maxHeadBytes?: number;
  maxBodyBytes?: number;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
}
interface Client {
  request(url: string, options?: { method?: string; limits?: ClientLimits }): Promise<{ status: number; body: Buffer }>;
}

const required = { server: ['startServer'], client: ['request'] } as const;
const impl = await loadImplementation<ServerContract<ServerOptions>, Client>('08-security', required);

/** Small limits, so that every row can also be sent one byte at a time in a moment. */
const SMALL: Limits = { maxHeadBytes: 1024, maxTargetBytes: 200, maxHeaderFields: 12, maxBodyBytes: 64 };

const H = 'Host: {host}\r\n';
const C = 'Connection: close\r\n';
const post = (headers: string, body: string): string => `POST /echo HTTP/1.1\r\n${H}${C}${headers}\r\n${body}`;

type Row = [name: string, request: string, status: number];

// The rows of the server tables in shared/reference/http11-rules.md, with SMALL limits. A
// status of 400 and above must close the connection, saying so.
const requestLine: Row[] = [
  ['recap: two spaces between method and target', 'GET  / HTTP/1.1\r\nHost: {host}\r\n\r\n', 400],
  ['recap: a tab between method and target', 'GET\t/ HTTP/1.1\r\nHost: {host}\r\n\r\n', 400],
  ['recap: a version in lower case', 'GET / http/1.1\r\nHost: {host}\r\n\r\n', 400],
  ['recap: a version with two digits', 'GET / HTTP/1.10\r\nHost: {host}\r\n\r\n', 400],
  ['recap: major version 2', `GET / HTTP/2.0\r\n${H}${C}\r\n`, 505],
  ['recap: a method with a non-token character', `GE(T / HTTP/1.1\r\n${H}${C}\r\n`, 400],
  ['recap: a method this server does not implement', `BREW / HTTP/1.1\r\n${H}${C}\r\n`, 501],
  ['a target longer than maxTargetBytes: 414', `GET /${'a'.repeat(250)} HTTP/1.1\r\n${H}${C}\r\n`, 414],
  ['a request line longer than the whole head limit: 414', `GET /${'a'.repeat(1100)} HTTP/1.1\r\n${H}${C}\r\n`, 414],
  ['recap: empty lines before the request line are ignored', `\r\n\r\nGET / HTTP/1.1\r\n${H}${C}\r\n`, 200],
  ['recap: HTTP/1.1 without Host', `GET / HTTP/1.1\r\n${C}\r\n`, 400],
  ['recap: two Host fields', `GET / HTTP/1.1\r\n${H}${H}${C}\r\n`, 400],
  ['recap: whitespace between a field name and the colon', `GET / HTTP/1.1\r\n${H}X-A : 1\r\n${C}\r\n`, 400],
  ['recap: obs-fold (a field line that starts with a space)', `GET / HTTP/1.1\r\n${H}X-A: 1\r\n 2\r\n${C}\r\n`, 400],
  ['recap: a first field line that starts with whitespace', `GET / HTTP/1.1\r\n ${H}${C}\r\n`, 400],
  ['recap: a bare CR in a field value', `GET / HTTP/1.1\r\n${H}X-A: 1\r2\r\n${C}\r\n`, 400],
  ['recap: a NUL in a field value', `GET / HTTP/1.1\r\n${H}X-A: 1\x002\r\n${C}\r\n`, 400],
  ['recap: a bare LF ending a field line', `GET / HTTP/1.1\r\n${H}X-A: 1\n${C}\r\n`, 400],
  ['recap: a field name with a non-token character', `GET / HTTP/1.1\r\n${H}X@A: 1\r\n${C}\r\n`, 400],
  ['recap: an empty field name', `GET / HTTP/1.1\r\n${H}: 1\r\n${C}\r\n`, 400],
  ['recap: bytes 0x80-0xff in a field value are allowed', `GET / HTTP/1.1\r\n${H}X-A: caf\xe9\r\n${C}\r\n`, 200],
  ['recap: a head larger than maxHeadBytes: 431', `GET / HTTP/1.1\r\n${H}X-A: ${'a'.repeat(1100)}\r\n${C}\r\n`, 431],
  ['more header fields than maxHeaderFields: 431', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 12 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}${C}\r\n`, 431],
];

const body: Row[] = [
  ['recap: neither Content-Length nor Transfer-Encoding: no body', post('', ''), 200],
  ['recap: Content-Length with a sign', post('Content-Length: +3\r\n', 'abc'), 400],
  ['recap: Content-Length in hex', post('Content-Length: 0x3\r\n', 'abc'), 400],
  ['recap: an empty Content-Length', post('Content-Length: \r\n', ''), 400],
  ['recap: a space inside Content-Length', post('Content-Length: 1 2\r\n', 'abc'), 400],
  ['recap: a Content-Length that overflows', post('Content-Length: 99999999999999999999\r\n', ''), 400],
  ['recap: two Content-Length values that differ', post('Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'), 400],
  ['recap: Content-Length and Transfer-Encoding together', post('Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', '3\r\nabc\r\n0\r\n\r\n'), 400],
  ['recap: Transfer-Encoding whose last coding is not chunked', post('Transfer-Encoding: chunked, gzip\r\n', ''), 400],
  ['recap: a transfer coding the server does not implement', post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'), 501],
  ['recap: Transfer-Encoding in an HTTP/1.0 request', `POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['a Content-Length over maxBodyBytes, refused before the body: 413', post('Content-Length: 65\r\n', ''), 413],
  ['chunks that add up to more than maxBodyBytes: 413', post('Transfer-Encoding: chunked\r\n', `40\r\n${'a'.repeat(64)}\r\n1\r\n`), 413],
  ['recap: a chunk size with 0x', post('Transfer-Encoding: chunked\r\n', '0x3\r\nabc\r\n0\r\n\r\n'), 400],
  ['recap: a chunk size that overflows', post('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffff\r\n'), 400],
  ['recap: chunk data not followed by CRLF', post('Transfer-Encoding: chunked\r\n', '3\r\nabcd\r\n0\r\n\r\n'), 400],
  ['recap: chunk extensions are ignored', post('Transfer-Encoding: chunked\r\n', '3;name=value\r\nabc\r\n0\r\n\r\n'), 200],
  ['recap: trailer fields are read and kept apart', post('Transfer-Encoding: chunked\r\n', '3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n'), 200],
  ['recap: an expectation other than 100-continue', post('Expect: something\r\nContent-Length: 3\r\n', 'abc'), 417],
];

const deliveries = ['whole', 'one byte at a time'] as const;

describe.concurrent(`chapter 08 server: the rules table (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl, { limits: SMALL });
  });
  afterAll(() => server.close());

  const rows = [...requestLine, ...body].flatMap(([name, request, status]) => deliveries.map((delivery) => [`${name} (${delivery})`, request, status, delivery] as const));
  it.each(rows)('%s', async (name, request, status, delivery) => {
    const result = await exchange(server.port, fill(request, server.port), { delivery: delivery === 'whole' ? 'whole' : 'byte-by-byte', timeoutMs: 3000 });
    const what = `${name.replace(/^recap: /, '')}: the server should answer ${status}${status >= 400 ? ', say Connection: close and close' : ''}.`;
    expectResponse(server, result, { status, ...(status >= 400 ? { headers: { Connection: 'close' } } : {}) }, what);
    if (status >= 400) expectClosed(server, result, what);
  });
});

const oneResponse = (raw: Buffer): boolean => contentLengthResponseEnd(raw) !== null;
const get = (port: number, target: string, close = true): string => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

describe.concurrent(`chapter 08 server: slow clients, too many, too long (${impl.label}/server.ts)`, () => {
  it.each([
    ['head', 'slowloris: a head sent one byte every 100 ms', (port: number) => get(port, '/')],
    ['body', 'a body sent one byte every 100 ms', (port: number) => `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 40\r\n\r\n${'b'.repeat(40)}`],
  ])('answers 408 and closes 50 connections whose %s trickles in, while serving others', async (part, what, request) => {
    const own = await startServerUnderTest(impl, { headTimeoutMs: 600, bodyTimeoutMs: 600 });
    const trickling: RawConnection[] = [];
    try {
      for (let i = 0; i < 50; i++) trickling.push(await RawConnection.open(own.port));
      const bytes = Buffer.from(request(own.port), 'latin1');
      // For a slow body the head goes at once; then each connection trickles, a byte every 100 ms.
      const headEnd = part === 'body' ? bytes.indexOf('\r\n\r\n') + 4 : 0;
      const sending = trickling.map((connection) =>
        connection.send(bytes.subarray(0, headEnd)).then(() => connection.send(bytes.subarray(headEnd), { pieces: [1], pauseMs: 100 })),
      );
      // Meanwhile, ordinary requests on other connections are answered.
      const served: Array<number | undefined> = [];
      for (let i = 0; i < 5; i++) {
        const result = await exchange(own.port, get(own.port, '/'), { timeoutMs: 3000 });
        served.push(statusOf(result.received));
      }
      const outcomes = await Promise.all(trickling.map((connection) => connection.read(undefined, 5000)));
      await Promise.all(sending);
      const answers = trickling.map((connection) => statusOf(connection.bytes) ?? '(no response)');
      const first = trickling.find((connection) => statusOf(connection.bytes) !== 408);
      if (first) {
        failServer(own, {
          expected: `${what}, with headTimeoutMs and bodyTimeoutMs of 600: each of the 50 connections should get 408 and be closed (RFC 9110 §15.5.9). This one did not.`,
          sent: first.sentBytes,
          received: first.bytes,
          outcome: outcomes[trickling.indexOf(first)],
        });
      }
      expect(
        { answers: new Set(answers), closed: outcomes.every((outcome) => outcome === 'closed'), served },
        `the answers to 50 trickling connections, whether all were closed, and the statuses of 5 ordinary requests sent meanwhile`,
      ).toEqual({ answers: new Set([408]), closed: true, served: [200, 200, 200, 200, 200] });
    } finally {
      trickling.forEach((connection) => connection.close());
      await own.close();
    }
  });

  it('answers the connection over maxConnections 503 with Retry-After, and serves again once one closes', async () => {
    const own = await startServerUnderTest(impl, { maxConnections: 3 });
    const open: RawConnection[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const connection = await RawConnection.open(own.port);
        await connection.send(get(own.port, '/', false));
        await connection.read(oneResponse);
        open.push(connection);
      }
      const over = await exchange(own.port, get(own.port, '/'), { timeoutMs: 3000 });
      expectResponse(own, over, { status: 503, headers: { Connection: 'close' } }, 'With maxConnections 3 and three connections open, a fourth should be answered 503 and closed.');
      expectClosed(own, over, 'The connection over the cap should be closed after its 503.');
      const retryAfter = fieldValues(readHead(over.received)!, 'retry-after');
      open.shift()!.close();
      let again: number | undefined;
      for (let attempt = 0; attempt < 20 && again !== 200; attempt++) {
        await sleep(50); // until the server has seen the close
        again = statusOf((await exchange(own.port, get(own.port, '/'), { timeoutMs: 3000 })).received);
      }
      expect({ retryAfter: retryAfter.length, again }, 'the 503 has a Retry-After; once one of the three closes, a new connection is served').toEqual({ retryAfter: 1, again: 200 });
    } finally {
      open.forEach((connection) => connection.close());
      await own.close();
    }
  });

  it('ends a connection after maxRequestsPerConnection requests, saying Connection: close on the last', async () => {
    const own = await startServerUnderTest(impl, { maxRequestsPerConnection: 3 });
    const connection = await RawConnection.open(own.port);
    try {
      await connection.send(get(own.port, '/', false).repeat(4));
      const outcome = await connection.read(undefined, 3000);
      const responses = splitResponses(connection.bytes);
      const fields = responses.map((response) => fieldValues(readHead(response)!, 'connection')[0] ?? '(none)');
      if (responses.length !== 3 || outcome !== 'closed') {
        failServer(own, { expected: 'Four pipelined requests with maxRequestsPerConnection 3: three answers, the last with Connection: close, then the close.', sent: connection.sentBytes, received: connection.bytes, outcome });
      }
      expect(fields, 'the Connection field of each of the three answers').toEqual(['(none)', '(none)', 'close']);
    } finally {
      connection.close();
      await own.close();
    }
  });

  it('recap: answers 500 to a handler that throws, logs it once, and goes on serving', async () => {
    const own = await startServerUnderTest(impl);
    try {
      const crash = await exchange(own.port, get(own.port, '/crash'));
      expectResponse(own, crash, { status: 500, headers: { Connection: 'close' } }, 'GET /crash (a handler that throws) should be answered 500.');
      const after = await exchange(own.port, get(own.port, '/'));
      expectResponse(own, after, { status: 200 }, 'After a handler threw, the server should still answer GET /.');
      expect(own.errors.map((error) => (error as Error).name), 'the errors the server reported: the TypeError, once').toEqual(['TypeError']);
    } finally {
      await own.close();
    }
  });

  it('recap: cuts a streamed answer that fails halfway, without a second status line', async () => {
    const own = await startServerUnderTest(impl);
    try {
      const result = await exchange(own.port, get(own.port, '/chunked?n=3&ms=10&fail=1'), { timeoutMs: 3000 });
      const text = result.received.toString('latin1');
      expect(
        { outcome: result.outcome, statusLines: text.match(/HTTP\/1\.1 \d{3}/g), firstPiece: text.includes('piece 1 of 3'), lastChunk: text.endsWith('0\r\n\r\n'), errors: own.errors.length },
        'a chunked answer whose stream fails after one piece: one status line, the first piece, no last chunk (so the client knows it was cut), a close, and the error logged once',
      ).toEqual({ outcome: 'closed', statusLines: ['HTTP/1.1 200'], firstPiece: true, lastChunk: false, errors: 1 });
    } finally {
      await own.close();
    }
  });
});

describe.concurrent(`chapter 08 server: static files (${impl.label}/server.ts)`, () => {
  // A folder to serve, beside a secret it must never give away.
  const base = mkdtempSync(path.join(os.tmpdir(), 'course-static-'));
  const publicDir = path.join(base, 'public');
  const SECRET = 'the secret outside public/';
  mkdirSync(path.join(publicDir, 'sub'), { recursive: true });
  writeFileSync(path.join(publicDir, 'index.html'), '<h1>index</h1>');
  writeFileSync(path.join(publicDir, 'a.txt'), 'file a');
  writeFileSync(path.join(publicDir, 'sub', 'b.txt'), 'file b');
  writeFileSync(path.join(base, 'secret.txt'), SECRET);
  const links = process.platform !== 'win32';
  if (links) symlinkSync(path.join(base, 'secret.txt'), path.join(publicDir, 'link-out.txt'));

  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl, { publicDir });
  });
  afterAll(async () => {
    await server.close();
    rmSync(base, { recursive: true, force: true });
  });

  it.each([
    ['/static/', 200, '<h1>index</h1>', 'text/html'],
    ['/static/a.txt', 200, 'file a', 'text/plain'],
    ['/static/sub/b.txt', 200, 'file b', 'text/plain'],
    ['/static//a.txt', 200, 'file a', 'text/plain'],
    ['/static/sub', 301, undefined, undefined],
    ['/static/nope.txt', 404, undefined, undefined],
    ['/static/%zz', 400, undefined, undefined],
  ])('serves GET %s: %s', async (target, status, content, type) => {
    const result = await exchange(server.port, get(server.port, target));
    expectResponse(server, result, { status, ...(content !== undefined ? { body: content } : {}) }, `GET ${target} should be answered ${status}${content ? ` with "${content}"` : ''}.`);
    if (type) expect(fieldValues(readHead(result.received)!, 'content-type')[0] ?? '', `the Content-Type of ${target}`).toMatch(new RegExp(`^${type}`));
  });

  it.each([
    '/static/../secret.txt',
    '/static/sub/../../secret.txt',
    '/static/%2e%2e/secret.txt',
    '/static/%2E%2E%2Fsecret.txt',
    '/static/sub/..%2f..%2fsecret.txt',
    '/static/..%5csecret.txt',
    '/static/..\\secret.txt',
    '/static/a.txt%00.html',
    '/static/%2f..%2fsecret.txt',
    '/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/static/....//secret.txt',
    ...(links ? ['/static/link-out.txt'] : []),
  ])('never serves a file outside public/: GET %s is 403 or 404', async (target) => {
    const result = await exchange(server.port, get(server.port, target));
    const status = statusOf(result.received);
    if (!(status === 403 || status === 404) || result.received.includes(SECRET)) {
      failServer(server, {
        expected: `GET ${target} tries to leave public/: it should be answered 403 or 404, and never with the file outside.`,
        sent: result.sent,
        received: result.received,
        outcome: result.outcome,
      });
    }
  });

  it('serves its own public/index.html at GET /static/ by default, as HTML', async () => {
    const own = await startServerUnderTest(impl);
    try {
      const result = await exchange(own.port, get(own.port, '/static/'));
      expectResponse(own, result, { status: 200 }, 'GET /static/ should serve the chapter\'s public/index.html.');
      expect(fieldValues(readHead(result.received)!, 'content-type')[0], 'its Content-Type').toMatch(/^text\/html/);
    } finally {
      await own.close();
    }
  });
});

describe.concurrent(`chapter 08 server: a body as a stream, POST /sha256 (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  afterAll(() => server.close());

  const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  /** Numbered lines, so a dropped or repeated piece changes the digest, and a report reads well. */
  const body = Buffer.from(Array.from({ length: 10 }, (_, i) => `line ${i + 1} of the body\n`).join(''));
  const post = (port: number, data: Buffer, framing: 'Content-Length' | 'chunked', close: boolean): Buffer => {
    const field = framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${data.length}`;
    const head = Buffer.from(`POST /sha256 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${field}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`, 'latin1');
    // Chunks of 64 bytes, so the body spans several chunks and the last one is short.
    return Buffer.concat([head, framing === 'chunked' ? encodeChunked(data, [64]) : data]);
  };

  const rows = (['Content-Length', 'chunked'] as const).flatMap((framing) =>
    (['whole', 'one byte at a time', 'with the next request behind it'] as const).map((delivery) => [framing, delivery] as const),
  );
  it.each(rows)('answers the hex SHA-256 of a %s body, sent %s', async (framing, delivery) => {
    const behind = delivery === 'with the next request behind it';
    const bytes = Buffer.concat([post(server.port, body, framing, !behind), Buffer.from(behind ? get(server.port, '/') : '', 'latin1')]);
    const result = await exchange(server.port, bytes, { delivery: delivery === 'one byte at a time' ? 'byte-by-byte' : 'whole', timeoutMs: 5000 });
    const what = `POST /sha256 with a ${framing} body of ${body.length} bytes should be answered 200 with its SHA-256 in hex and a newline (${sha256(body)}).`;
    const [first, second] = splitResponses(result.received);
    expectResponse(server, { ...result, received: first ?? result.received }, { status: 200, body: `${sha256(body)}\n` }, what);
    if (behind) {
      expectResponse(server, { ...result, received: second ?? Buffer.alloc(0) }, { status: 200, body: 'Hello, World!' }, `${what} Then GET /, which came right behind it on the same connection, should be answered too.`);
    }
  });

  it('hashes a 3 MiB body, three times the body limit, which POST /echo refuses with 413', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    const hashedResult = await exchange(server.port, post(server.port, big, 'Content-Length', true), { timeoutMs: 10_000 });
    const shown = { ...hashedResult, sent: hashedResult.sent.subarray(0, 200) };
    expectResponse(server, shown, { status: 200, body: `${sha256(big)}\n` }, `POST /sha256 takes its body as a stream, so the 1 MiB limit does not apply: a 3 MiB body should be hashed (${sha256(big)}). (Only the first 200 bytes sent are shown.)`);
    const echoed = await exchange(server.port, `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${big.length}\r\n\r\n`, { timeoutMs: 5000 });
    expectResponse(server, echoed, { status: 413 }, 'POST /echo keeps its body whole, so a 3 MiB one is over the 1 MiB limit: 413, from the head alone.');
  });

  it('answers GET /sha256 with 405 and Allow: POST', async () => {
    const result = await exchange(server.port, get(server.port, '/sha256'));
    expectResponse(server, result, { status: 405, headers: { Allow: 'POST' } }, 'GET /sha256: the resource takes only POST, so 405 with Allow: POST (RFC 9110 §15.5.6).');
  });
});

describe(`chapter 08 server: fuzzing (${impl.label}/server.ts)`, () => {
  const valid = (port: number): string[] => [
    get(port, '/'),
    get(port, '/hello?x=1', false) + get(port, '/info'),
    `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`,
    `POST /data HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    `HEAD / HTTP/1.0\r\n\r\n`,
  ];

  /** Changes a valid request at random: bytes flipped, inserted or deleted, or a line repeated. */
  function mutate(bytes: Buffer, next: () => number): Buffer {
    const out = [...bytes];
    const times = 1 + Math.floor(next() * 3);
    for (let i = 0; i < times; i++) {
      const at = Math.floor(next() * out.length);
      const kind = Math.floor(next() * 4);
      if (kind === 0) out[at] = Math.floor(next() * 256);
      else if (kind === 1) out.splice(at, 0, Math.floor(next() * 256));
      else if (kind === 2) out.splice(at, 1);
      else {
        const text = Buffer.from(out).toString('latin1');
        const lines = text.split('\r\n');
        const line = Math.floor(next() * lines.length);
        lines.splice(line, 0, lines[line]!);
        return Buffer.from(lines.join('\r\n'), 'latin1');
      }
    }
    return Buffer.from(out);
  }

  /**
   * What is wrong with `raw` as a series of responses (status line, fields, a Content-Length
   * body or a chunked one), or null. The answers to a HEAD have no body.
   */
  function wellFormed(raw: Buffer, answersHead: boolean): string | null {
    let rest = raw;
    while (rest.length > 0) {
      const head = readHead(rest);
      if (!head) return 'a response head without its empty line';
      if (!/^HTTP\/1\.1 \d{3} [\x20-\x7e]*$/.test(head.statusLine)) return `a bad status line: ${head.statusLine}`;
      const status = Number(head.statusLine.split(' ')[1]);
      const length = fieldValues(head, 'content-length')[0];
      const chunked = fieldValues(head, 'transfer-encoding')[0] === 'chunked';
      if (answersHead || status < 200 || status === 204 || status === 304) {
        rest = rest.subarray(head.bodyAt);
      } else if (length !== undefined) {
        const end = head.bodyAt + Number(length);
        if (end > rest.length) return 'a body shorter than its Content-Length';
        rest = rest.subarray(end);
      } else if (chunked) {
        const last = rest.indexOf('0\r\n\r\n', head.bodyAt);
        if (last < 0) return 'a chunked body without its last chunk';
        rest = rest.subarray(last + 5);
      } else {
        return 'a response with neither Content-Length nor chunked';
      }
    }
    return null;
  }

  it('answers 300 random and mutated requests, in random pieces, with well-formed responses or a close, and still serves afterwards', async () => {
    const own = await startServerUnderTest(impl, { headTimeoutMs: 300, bodyTimeoutMs: 300, idleTimeoutMs: 300 });
    try {
      const next = random(SEED);
      const cases = Array.from({ length: 300 }, (_, i) => {
        const bytes =
          i % 3 === 0
            ? Buffer.from(Array.from({ length: 1 + Math.floor(next() * 200) }, () => Math.floor(next() * 256)))
            : mutate(Buffer.from(valid(own.port)[Math.floor(next() * 5)]!, 'latin1'), next);
        return { bytes, pieces: randomPieces(bytes.length, next, 40) };
      });
      const problems: string[] = [];
      for (let i = 0; i < cases.length; i += 30) {
        await Promise.all(
          cases.slice(i, i + 30).map(async ({ bytes, pieces }, j) => {
            const result = await exchange(own.port, bytes, { delivery: { pieces, pauseMs: 1 }, timeoutMs: 3000 });
            const problem = result.outcome === 'timeout' ? 'no answer and no close within 3 s' : wellFormed(result.received, bytes.subarray(0, 5).toString('latin1') === 'HEAD ');
            if (problem && problems.length < 3) {
              problems.push(`case ${i + j + 1}: ${problem}\n  sent: ${JSON.stringify(bytes.toString('latin1'))}\n  received: ${JSON.stringify(result.received.toString('latin1').slice(0, 300))}`);
            }
          }),
        );
      }
      const after = await exchange(own.port, get(own.port, '/'));
      const unexpected = own.errors.map((error) => String((error as Error).stack ?? error).split('\n').slice(0, 3).join(' | '));
      expect(
        { problems, unexpected, after: statusOf(after.received) },
        `300 fuzzed requests (${replay(`npx vitest run test/08-security.test.ts -t "random and mutated"`)}): what went wrong, the errors the server reported (none expected: every bad request has an answer), and GET / afterwards`,
      ).toEqual({ problems: [], unexpected: [], after: 200 });
    } finally {
      await own.close();
    }
  });
});

describe.concurrent(`chapter 08 client: the rules table (${impl.label}/client.ts)`, () => {
  // The client rows of the rules: what request() must make of each response, sent whole and
  // one byte at a time. A string is the body it must return; a RegExp, the error it must give.
  const rows: Array<[name: string, method: string, response: string, wanted: string | RegExp]> = [
    ['recap: a 1xx before the final response is skipped', 'GET', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'ok'],
    ['recap: the answer to HEAD has no body, whatever Content-Length says', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', ''],
    ['recap: a 204 has no body', 'GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', ''],
    ['recap: a 304 has no body', 'GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n', ''],
    ['recap: a chunked body is decoded, trailers and all', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n', 'ok'],
    ['recap: Content-Length is the exact number of body bytes', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA', 'ok'],
    ['recap: with neither length, the body runs to the close', 'GET', 'HTTP/1.1 200 OK\r\n\r\nto the close', 'to the close'],
    ['recap: a body cut off before its Content-Length is an error', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort', /cut off/],
    ['recap: a chunked body cut off before its last chunk is an error', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n', /cut off|last chunk/],
    ['recap: an invalid Content-Length is an error', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nok', /Content-Length/],
    ['recap: two Content-Length values that differ are an error', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok', /Content-Length/],
  ];
  const cases = rows.flatMap(([name, method, response, wanted]) => deliveries.map((delivery) => [`${name} (${delivery})`, method, response, wanted, delivery] as const));
  it.each(cases)('%s', async (name, method, response, wanted, delivery) => {
    const scripted = await startScriptedServer(async (connection) => {
      if (!(await connection.waitForHead())) return;
      const bytes = Buffer.from(response, 'latin1');
      await connection.send(delivery === 'whole' ? bytes : [...bytes].map((byte) => Buffer.from([byte])), 1);
      connection.end();
    });
    try {
      const what = `request() ${method} of a response that ${name.replace(/^recap: /, '').replace(/ \(.*\)$/, '')}`;
      if (typeof wanted === 'string') {
        const answer = await callClient(what, () => impl.client.request(scripted.url('/'), { method }), { timeoutMs: 5000 });
        expect(answer.body.toString('latin1'), `${what}: the body it returned`).toBe(wanted);
      } else {
        expect(await rejectionOf(() => impl.client.request(scripted.url('/'), { method }), 5000), `${what}: the error it gave`).toMatch(wanted);
      }
    } finally {
      await scripted.close();
    }
  });
});

describe.concurrent(`chapter 08 client against hostile servers (${impl.label}/client.ts)`, () => {
  const endless = (first: string, filler: string) =>
    startScriptedServer(async (connection) => {
      if (!(await connection.waitForHead())) return;
      await connection.send(first);
      // Sends until the client hangs up, or for 3 s at most.
      for (let i = 0; i < 3000 && !connection.socket.destroyed && connection.socket.writable; i++) {
        await connection.send(filler.repeat(64));
        await sleep(1);
      }
    });

  it.each([
    ['an endless head', () => endless('HTTP/1.1 200 OK\r\nX-A: ', 'a'), { maxHeadBytes: 4096 }, /head.*4096/i],
    ['an endless chunked body', () => endless('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '1\r\nx\r\n'), { maxBodyBytes: 4096 }, /4096/],
    ['an endless body read until the close', () => endless('HTTP/1.1 200 OK\r\n\r\n', 'x'), { maxBodyBytes: 4096 }, /4096/],
    [
      'a Content-Length beyond the limit',
      () =>
        startScriptedServer(async (connection) => {
          if (await connection.waitForHead()) await connection.send('HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\nxx');
          await connection.waitFor(() => false, 3000);
        }),
      { maxBodyBytes: 4096 },
      /4096/,
    ],
    [
      'no answer at all',
      () => startScriptedServer(async (connection) => void (await connection.waitFor(() => false, 3000))),
      { readTimeoutMs: 300 },
      /no response|nothing/i,
    ],
    [
      'a Content-Length it never delivers, the connection left open',
      () =>
        startScriptedServer(async (connection) => {
          if (await connection.waitForHead()) await connection.send('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b');
          await connection.waitFor(() => false, 3000);
        }),
      { readTimeoutMs: 300 },
      /stopped/i,
    ],
    [
      'a Content-Length it never delivers, then a close',
      () =>
        startScriptedServer(async (connection) => {
          if (await connection.waitForHead()) await connection.send('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b');
          connection.end();
        }),
      {},
      /cut off/i,
    ],
  ] as const)('rejects %s with a clear error, within its limits', async (_, start, limits, message) => {
    const scripted = await start();
    try {
      const error = await rejectionOf(() => impl.client.request(scripted.url('/'), { limits }), 2500);
      expect(error, `the error request() gave, with limits ${JSON.stringify(limits)}`).toMatch(message);
    } finally {
      await scripted.close();
    }
  });

  it('still reads an honest response with its limits set', async () => {
    const scripted = await startScriptedServer(async (connection) => {
      if (await connection.waitForHead()) await connection.send('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
      connection.end();
    });
    try {
      const response = await callClient('request() with maxBodyBytes 5 and readTimeoutMs 1000', () =>
        impl.client.request(scripted.url('/'), { limits: { maxBodyBytes: 5, readTimeoutMs: 1000 } }),
      );
      expect({ status: response.status, body: response.body.toString() }, 'a body of exactly maxBodyBytes').toEqual({ status: 200, body: 'hello' });
    } finally {
      await scripted.close();
    }
  });
});

describe(`chapter 08 server against llhttp's request cases (${impl.label}/server.ts)`, () => {
  // llhttp is the parser inside Node. test/cases/llhttp/cases.json holds the request and
  // response cases of its test suite (MIT, see LICENSE there): raw bytes, and whether
  // llhttp accepts them. Most omit Host, which HTTP/1.1 requires: it is added.
  interface LlhttpCase {
    title: string;
    kind: string;
    raw: string;
    error: null | { reason: string };
    messages: number;
  }
  const cases = (JSON.parse(readFileSync(new URL('./cases/llhttp/cases.json', import.meta.url), 'utf8')) as LlhttpCase[]).filter((c) => c.kind === 'request');

  /** Where this server deliberately parts from llhttp, and what it does instead. */
  const DIFFERENCES: Record<string, { server: 'reject' | 'waited'; why: string }> = {
    'Error on `Content-Length` overflow': { server: 'waited', why: 'the head never ends; fields are judged once it does (then 400), so the server waits and answers 408' },
    'Error on duplicate `Content-Length`': { server: 'waited', why: 'the head never ends; fields are judged once it does (then 400), so the server waits and answers 408' },
    'Invalid HTTP version': { server: 'waited', why: 'the request line never ends; it is judged once it does (then 505), so the server waits and answers 408' },
    'Invalid space after start line': { server: 'waited', why: 'the head never ends; it is judged once it does (then 400), so the server waits and answers 408' },
    'Content-Length reset when no body is received': { server: 'waited', why: 'the second request is the first one\'s body, which never reaches its 123 bytes: 408' },
    'M-SEARCH request': { server: 'reject', why: 'the asterisk form is only for OPTIONS (RFC 9112 §3.2.4); M-SEARCH is SSDP, not HTTP' },
    'SOURCE request with ICE': { server: 'reject', why: 'ICE is not HTTP: a version other than HTTP/1.x is 400' },
    'OPTIONS request with RTSP': { server: 'reject', why: 'RTSP is not HTTP: a version other than HTTP/1.x is 400' },
    'ANNOUNCE request with RTSP': { server: 'reject', why: 'RTSP is not HTTP: a version other than HTTP/1.x is 400' },
    'No HTTP version': { server: 'reject', why: 'HTTP/0.9 (a request line without a version) is not supported' },
    'PRI request HTTP2': { server: 'reject', why: 'the HTTP/2 connection preface: this server speaks HTTP/1.1 only, and the asterisk form is only for OPTIONS' },
    '`host:port` and basic auth': { server: 'reject', why: 'userinfo in a target is deprecated, and RFC 9110 §4.2.4 says to treat it as an error' },
  };

  /** llhttp's verdict: a pause for CONNECT or Upgrade, and bytes after a close, are not refusals of the request. */
  const llhttpVerdict = (c: LlhttpCase): 'accept' | 'reject' | 'incomplete' =>
    c.error === null ? (c.messages === 0 ? 'incomplete' : 'accept') : /^Pause on|^Data after `Connection: close`/.test(c.error.reason) ? 'accept' : 'reject';

  /** The server's verdict, from its first answer. 501 is "not implemented": no verdict on the syntax. */
  const serverVerdict = (raw: Buffer): 'accept' | 'reject' | 'waited' | 'not implemented' | 'no answer' => {
    const status = statusOf(raw);
    if (status === undefined) return 'no answer';
    if (status === 501) return 'not implemented';
    if (status === 408) return 'waited';
    return [400, 413, 414, 431, 505].includes(status) ? 'reject' : 'accept';
  };

  it('agrees with llhttp on accepting or refusing each request case, but for the differences it lists', async () => {
    const own = await startServerUnderTest(impl, { headTimeoutMs: 300, bodyTimeoutMs: 300, idleTimeoutMs: 1000 });
    try {
      const disagreements: string[] = [];
      for (let i = 0; i < cases.length; i += 20) {
        await Promise.all(
          cases.slice(i, i + 20).map(async (c) => {
            let raw = c.raw;
            const lead = /^(\r\n)*/.exec(raw)![0].length;
            const lineEnd = raw.indexOf('\r\n', lead);
            if (lineEnd > 0 && raw.slice(lead, lineEnd).endsWith(' HTTP/1.1') && !/\nhost:/i.test(raw)) {
              raw = `${raw.slice(0, lineEnd + 2)}Host: example.com\r\n${raw.slice(lineEnd + 2)}`;
            }
            const result = await exchange(own.port, Buffer.from(raw, 'latin1'), { timeoutMs: 3000 });
            const ours = serverVerdict(result.received);
            const theirs = llhttpVerdict(c);
            if (ours === 'not implemented') return;
            const wanted = DIFFERENCES[c.title]?.server ?? (theirs === 'incomplete' ? 'waited' : theirs);
            if (ours !== wanted) {
              disagreements.push(`"${c.title}": llhttp ${theirs}s it, this server should ${wanted === 'waited' ? 'wait (408)' : wanted} but did ${ours} (${result.received.toString('latin1').split('\r\n')[0]})\n  sent: ${JSON.stringify(raw)}`);
            }
          }),
        );
      }
      expect(disagreements, `${cases.length} llhttp request cases: the ones where this server and llhttp disagree (beyond the deliberate differences listed in this test)`).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
