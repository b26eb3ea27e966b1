// Chapter 06: the chunked transfer coding (RFC 9112 §7.1). The server decodes chunked
// request bodies however they are split, keeps trailers apart from the headers, refuses
// every framing it cannot trust, and streams GET /chunked piece by piece (unchunked, ended
// by the close, for HTTP/1.0). The client decodes chunked responses, trailers included, and
// uploads a body of unknown length as chunks.

import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawConnection,
  SEED,
  callClient,
  chunkedResponseEnd,
  decodeChunked,
  encodeChunked,
  exchange,
  expectClosed,
  expectResponse,
  failServer,
  fieldValues,
  loadImplementation,
  random,
  randomPieces,
  readHead,
  rejectionOf,
  replay,
  startScriptedServer,
  startServerUnderTest,
  type ServerContract,
  type ServerUnderTest,
} from './harness/index.ts';
import { status } from './cases/requests.ts';

interface ClientResponse {
  status: number;
  body: Buffer;
  headers: { get(name: string): string | undefined };
  trailers: { get(name: string): string | undefined };
}
interface Client {
  request(
    url: string,
    options?: { method?: string; headers?: Array<[string, string]>; bodyStream?: AsyncIterable<Buffer | string>; onChunk?: (data: Buffer) => void },
  ): Promise<ClientResponse>;
}

const required = { server: ['startServer'], client: ['request'] } as const;
const impl = await loadImplementation<ServerContract, Client>('06-chunked', required);
const next = random(SEED);
const replayHint = () => replay(`npm run check -- ${impl.chapter}`);

const randomBytes = (length: number): Buffer => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));

const chunkedPost = (port: number, path: string, encoded: Buffer, extra = ''): Buffer =>
  Buffer.concat([
    Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n${extra}Connection: close\r\n\r\n`, 'latin1'),
    encoded,
  ]);

describe.concurrent(`chapter 06 server: chunked requests (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  afterAll(() => server.close());

  it('decodes a chunked body sent one byte at a time, trailers and all', async () => {
    const bytes = chunkedPost(server.port, '/echo', encodeChunked(Buffer.from('hello, chunks'), [5, 2, 6], { extension: ';a=b', trailers: 'X-Checksum: 42\r\n' }));
    const result = await exchange(server.port, bytes, { delivery: 'byte-by-byte' });
    expectResponse(server, result, { status: 200, body: 'hello, chunks' }, 'A chunked body sent one byte at a time (sizes, extensions, data, CRLFs and a trailer all split): decoded to "hello, chunks".');
  });

  it.each(Array.from({ length: 12 }, (_, i) => [i + 1]))(
    'decodes random data in random chunk sizes, sent in random pieces (round trip %i of 12)',
    async () => {
      const data = randomBytes(1 + Math.floor(next() * 3000));
      const sizes = randomPieces(data.length, next, 700);
      const extension = next() < 0.3 ? ';name=value' : '';
      const bytes = chunkedPost(server.port, '/echo', encodeChunked(data, sizes, { extension }));
      const pieces = randomPieces(bytes.length, next, 400);
      const result = await exchange(server.port, bytes, { delivery: { pieces } });
      expectResponse(
        server,
        result,
        { status: 200, headers: { 'Content-Length': String(data.length) }, body: data },
        `POST /echo with ${data.length} random bytes in chunks of ${sizes.length > 8 ? `${sizes.length} sizes` : sizes.join(', ')} bytes${extension ? ' (with ;name=value extensions)' : ''}, sent in ${pieces.length} pieces: the echo is the decoded bytes, with a Content-Length. ${replayHint()}`,
      );
    },
  );

  it('keeps trailer fields apart: a Content-Type trailer does not change the Content-Type of the request', async () => {
    const encoded = encodeChunked(Buffer.from('plain'), [5], { trailers: 'Content-Type: text/evil\r\n' });
    const bytes = Buffer.concat([
      Buffer.from(`POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`),
      encoded,
    ]);
    const result = await exchange(server.port, bytes);
    expectResponse(server, result, { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'plain' }, 'Trailer fields are never merged into the header section (RFC 9112 §7.1.2): /echo answers with the header Content-Type, text/plain, not the trailer\'s text/evil.');
  });

  it('stores a chunked body at /data', async () => {
    const created = await exchange(server.port, chunkedPost(server.port, '/data', encodeChunked(Buffer.from('stored in chunks'), [6, 4])));
    expectResponse(server, created, { status: 201 }, 'POST /data with a chunked body: 201 Created.');
    const location = fieldValues(readHead(created.received)!, 'location')[0]!;
    const read = await exchange(server.port, `GET ${location} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    expectResponse(server, read, { status: 200, body: 'stored in chunks' }, 'GET of what a chunked POST stored: the decoded bytes.');
  });

  it.each([
    ['Content-Length together with Transfer-Encoding (request smuggling)', 'Transfer-Encoding: chunked\r\nContent-Length: 5', '5\r\nhello\r\n0\r\n\r\n', 400],
    ['a coding list whose last item is not chunked', 'Transfer-Encoding: chunked, gzip', '5\r\nhello\r\n0\r\n\r\n', 400],
    ['a coding the server does not implement, before chunked', 'Transfer-Encoding: gzip, chunked', '5\r\nhello\r\n0\r\n\r\n', 501],
    ['chunked applied twice (RFC 9112 §6.1)', 'Transfer-Encoding: chunked, chunked', '5\r\nhello\r\n0\r\n\r\n', 400],
    ['a trailer section over 16 KiB', 'Transfer-Encoding: chunked', `5\r\nhello\r\n0\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431],
    ['a chunk size in hex with 0x', 'Transfer-Encoding: chunked', '0x5\r\nhello\r\n0\r\n\r\n', 400],
    ['a chunk size with a plus sign', 'Transfer-Encoding: chunked', '+5\r\nhello\r\n0\r\n\r\n', 400],
    ['an empty chunk size', 'Transfer-Encoding: chunked', '\r\nhello\r\n0\r\n\r\n', 400],
    ['a chunk size that overflows', 'Transfer-Encoding: chunked', 'fffffffffffffffffff\r\nhello\r\n0\r\n\r\n', 400],
    ['a chunk size that is not hex', 'Transfer-Encoding: chunked', 'five\r\nhello\r\n0\r\n\r\n', 400],
    ['chunk data not followed by CRLF (a size that lies)', 'Transfer-Encoding: chunked', '3\r\nhello\r\n0\r\n\r\n', 400],
    ['a bare LF after the chunk size', 'Transfer-Encoding: chunked', '5\nhello\r\n0\r\n\r\n', 400],
    ['chunk data followed by 20 KiB without a line break (400 at the first wrong byte)', 'Transfer-Encoding: chunked', `3\r\nhello${'x'.repeat(20 * 1024)}`, 400],
    ['chunk extensions over 16 KiB', 'Transfer-Encoding: chunked', `5;x=${'a'.repeat(17 * 1024)}\r\nhello\r\n0\r\n\r\n`, 413],
    ['chunks that add up to more than 1 MiB', 'Transfer-Encoding: chunked', `80000\r\n${'a'.repeat(0x80000)}\r\n80001\r\n`, 413],
  ])('refuses %s, and closes', async (what, field, body, code) => {
    const bytes = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${field}\r\n\r\n${body}`;
    const result = await exchange(server.port, bytes, { timeoutMs: 5000 });
    expectResponse(server, result, status(code as number), `A request with ${what}: ${code}, and a close (RFC 9112 §6.1, §6.3, §7.1).`);
    expectClosed(server, result, `After the ${code} the server should close the connection.`);
  });

  it('refuses Transfer-Encoding in an HTTP/1.0 request, whose framing is faulty (RFC 9112 §6.1)', async () => {
    const result = await exchange(server.port, 'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expectResponse(server, result, status(400), 'HTTP/1.0 knows no chunks: a Transfer-Encoding in an HTTP/1.0 request is answered 400, and the connection closed.');
    expectClosed(server, result, 'After the 400 the server should close the connection.');
  });
});

describe.concurrent(`chapter 06 server: streamed responses (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  afterAll(() => server.close());

  it('streams GET /chunked as chunks, with no Content-Length, and the decoded body is every piece', async () => {
    const result = await exchange(server.port, `GET /chunked?n=4&ms=10 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`, {
      until: (raw) => chunkedResponseEnd(raw) !== null,
    });
    const head = readHead(result.received);
    const decoded = head ? decodeChunked(result.received.subarray(head.bodyAt)) : null;
    const expected = [1, 2, 3, 4].map((i) => `piece ${i} of 4\n`).join('');
    if (!head || fieldValues(head, 'transfer-encoding')[0]?.toLowerCase() !== 'chunked' || fieldValues(head, 'content-length').length > 0 || decoded?.data.toString() !== expected) {
      failServer(server, {
        expected: `GET /chunked?n=4 should answer 200 with Transfer-Encoding: chunked, no Content-Length, and chunks that decode to "${expected.replaceAll('\n', '\\n')}", then the last chunk (0\\r\\n\\r\\n).`,
        sent: result.sent,
        received: result.received,
        outcome: result.outcome,
      });
    }
  });

  it('sends the first chunk before the last one is made', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      await connection.send(`GET /chunked?n=3&ms=300 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
      const firstChunk = (raw: Buffer): boolean => raw.includes('piece 1 of 3\n\r\n');
      const outcome = await connection.read(firstChunk);
      const early = connection.bytes;
      if (outcome !== 'complete' || early.includes('piece 3 of 3') || early.includes('\r\n0\r\n\r\n')) {
        failServer(server, {
          expected:
            'GET /chunked?n=3&ms=300 makes a piece every 300 ms: the first chunk should arrive on its own, long before the last, not all of them at the end (a streamed body is sent as it is made).',
          sent: connection.sentBytes,
          received: early,
          outcome,
        });
      }
    } finally {
      connection.close();
    }
  });

  it('sends HTTP/1.0 clients the stream unchunked, and closes to end it (RFC 9112 §6.3 rule 8)', async () => {
    const result = await exchange(server.port, 'GET /chunked?n=2&ms=10 HTTP/1.0\r\n\r\n');
    const head = readHead(result.received);
    const body = head ? result.received.subarray(head.bodyAt).toString() : '';
    if (!head || fieldValues(head, 'transfer-encoding').length > 0 || body !== 'piece 1 of 2\npiece 2 of 2\n' || result.outcome !== 'closed') {
      failServer(server, {
        expected: 'HTTP/1.0 has no chunked coding: GET /chunked from an HTTP/1.0 client gets the bare pieces, no Transfer-Encoding, and the close marks the end.',
        sent: result.sent,
        received: result.received,
        outcome: result.outcome,
      });
    }
  });
});

/** A scripted server that sends `response` (as bytes, in pieces) to the first request. */
async function answerWith(pieces: Buffer[], pauseMs = 5) {
  return startScriptedServer(async (connection) => {
    if (!(await connection.waitForHead())) return;
    await connection.send(pieces, pauseMs);
    connection.end();
  });
}

describe(`chapter 06 client (${impl.label}/client.ts)`, () => {
  it.each(Array.from({ length: 6 }, (_, i) => [i + 1]))('decodes a chunked response in random chunk sizes and random pieces (%i of 6)', async () => {
    const data = randomBytes(1 + Math.floor(next() * 2000));
    const response = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n'),
      encodeChunked(data, randomPieces(data.length, next, 500), { trailers: 'X-Trailer: yes\r\n' }),
    ]);
    const sizes = randomPieces(response.length, next, 300);
    const pieces: Buffer[] = [];
    for (let at = 0, i = 0; i < sizes.length; at += sizes[i]!, i++) pieces.push(response.subarray(at, at + sizes[i]!));
    const scripted = await answerWith(pieces, 2);
    try {
      const result = await callClient('request() of a chunked response', () => impl.client.request(scripted.url('/')));
      const same = Buffer.isBuffer(result.body) && result.body.equals(data);
      expect({ sameBody: same, length: result.body?.length, trailer: result.trailers?.get('x-trailer'), header: result.headers.get('x-trailer') }, `the decoded body, and where the trailer went (${replayHint()})`).toEqual({
        sameBody: true,
        length: data.length,
        trailer: 'yes',
        header: undefined,
      });
    } finally {
      await scripted.close();
    }
  });

  it('reads a response that node:http writes without a length (it chunks it)', async () => {
    const peer = http.createServer((_request, response) => {
      response.write('written ');
      setTimeout(() => response.end('in two parts'), 20);
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const { port } = peer.address() as net.AddressInfo;
    try {
      const result = await callClient('request() against node:http', () => impl.client.request(`http://127.0.0.1:${port}/`));
      expect(result.body?.toString(), 'the body node:http sent in chunks').toBe('written in two parts');
    } finally {
      peer.closeAllConnections();
      await new Promise<void>((resolve) => peer.close(() => resolve()));
    }
  });

  it('calls onChunk with each chunk as it arrives, before the response is complete', async () => {
    const scripted = await answerWith(
      [
        Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n'),
        Buffer.from('6\r\nsecond\r\n'),
        Buffer.from('0\r\n\r\n'),
      ],
      50,
    );
    const events: string[] = [];
    try {
      await callClient('request() with onChunk', async () => {
        const response = await impl.client.request(scripted.url('/'), { onChunk: (data) => events.push(`chunk ${data.toString()}`) });
        events.push('resolved');
        return response;
      });
    } finally {
      await scripted.close();
    }
    expect(events.join(', '), 'the order of onChunk calls and the resolution of request()').toBe('chunk first, chunk second, resolved');
  });

  it('uploads random data of unknown length as chunks (Transfer-Encoding: chunked, no Content-Length), and it decodes to the same bytes', async () => {
    const scripted = await startScriptedServer(async (connection) => {
      const done = await connection.waitFor((raw) => {
        const head = readHead(raw);
        return head !== null && decodeChunked(raw.subarray(head.bodyAt)) !== null;
      });
      if (!done) return;
      await connection.send('HTTP/1.1 204 No Content\r\n\r\n');
      connection.end();
    });
    // Random data in random pieces (an empty one among them, which must not end the body).
    const data = randomBytes(1 + Math.floor(next() * 3000));
    const sizes = randomPieces(data.length, next, 600);
    async function* pieces(): AsyncGenerator<Buffer> {
      for (let at = 0, i = 0; i < sizes.length; at += sizes[i]!, i++) {
        // Before the second piece, or before the only one: there is always an empty piece.
        if (i === Math.min(1, sizes.length - 1)) yield Buffer.alloc(0);
        yield data.subarray(at, at + sizes[i]!);
      }
    }
    try {
      await callClient('request() with a bodyStream', () => impl.client.request(scripted.url('/upload'), { method: 'POST', bodyStream: pieces() }), {
        received: () => scripted.connections[0]?.received ?? Buffer.alloc(0),
      });
      const sent = scripted.connections[0]!.received;
      const head = readHead(sent)!;
      const decoded = decodeChunked(sent.subarray(head.bodyAt));
      expect(
        { te: fieldValues(head, 'transfer-encoding')[0], cl: fieldValues(head, 'content-length'), sameBody: decoded?.data.equals(data) },
        `what the server received for ${data.length} random bytes in ${sizes.length} pieces: the framing fields, and whether the chunks decode to those bytes (${replayHint()})`,
      ).toEqual({ te: 'chunked', cl: [], sameBody: true });
    } finally {
      await scripted.close();
    }
  });

  it.each([
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', /chunk size|malformed/i],
    ['a close before the last chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', /last chunk|cut off|incomplete/i],
  ])('rejects a chunked response with %s, with a clear error', async (_, response, wording) => {
    const scripted = await answerWith([Buffer.from(response)]);
    const message = await rejectionOf(() => impl.client.request(scripted.url('/')));
    await scripted.close();
    const what = 'request() should reject a broken chunked response, saying what is wrong with it';
    expect(message, what).not.toMatch(/TODO/);
    expect(message, what).toMatch(wording);
  });
});
