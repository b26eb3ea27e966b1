// Chapter 03: stream reads. TCP delivers bytes, not messages, so the server must collect
// bytes until the empty line arrives, however they were split, and no further than 16 KiB;
// the client must do the same with the response head.
//
// Every chapter 02 request is sent again here, one byte at a time and in random pieces
// (seeded: a failure prints the seed that replays it), and must get the same answer.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RawConnection,
  SEED,
  callClient,
  exchange,
  expectClosed,
  expectResponse,
  loadImplementation,
  random,
  randomPieces,
  rejectionOf,
  replay,
  startScriptedServer,
  startServerUnderTest,
  type Delivery,
  type ServerContract,
  type ServerUnderTest,
} from './harness/index.ts';
import { accepted, answered, fill, get, heads, hello, helloServer, rejected, status, type Case } from './cases/requests.ts';

interface Client {
  request(url: string): Promise<{ raw: Buffer; status: number; reason: string; headers: { get(name: string): string | undefined }; body: Buffer }>;
}

const required = { server: ['startServer'], client: ['request'] } as const;
const impl = await loadImplementation<ServerContract, Client>('03-stream-reads', required);

const MAX_HEAD_BYTES = 16 * 1024;
const everyRequest: Case[] = [...accepted, ...answered, ...rejected, ...heads];
const next = random(SEED);

/** A GET / whose head, empty line included, is exactly `size` bytes. */
function headOfSize(size: number, port: number, method = 'GET'): Buffer {
  const start = `${method} / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\nX-Pad: `;
  const end = '\r\n\r\n';
  return Buffer.from(start + 'a'.repeat(size - start.length - end.length) + end, 'latin1');
}

describe.concurrent(`chapter 03 server (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  afterAll(() => server.close());

  async function check(testCase: Case, delivery: Delivery, how: string): Promise<void> {
    const result = await exchange(server.port, fill(testCase.request, server.port), { delivery });
    expectResponse(server, result, testCase.expect, `Sent ${how}, this request should get the same answer as when it is sent whole: ${testCase.expect.status}.`);
  }

  it.each(everyRequest.map((c) => [c.name, c] as const))('answers %s the same when it arrives one byte at a time', async (_, testCase) => {
    await check(testCase, 'byte-by-byte', 'one byte at a time');
  });

  it.each(everyRequest.map((c) => [c.name, c] as const))('answers %s the same when it arrives in random pieces', async (_, testCase) => {
    const bytes = fill(testCase.request, server.port);
    const pieces = randomPieces(bytes.length, next, 12);
    await check(testCase, { pieces }, `in pieces of ${pieces.join(', ')} bytes (${replay(`npm run check -- ${impl.chapter}`)})`);
  });

  it.each([
    ['\\r\\n\\r | \\n', 1],
    ['\\r\\n | \\r\\n', 2],
    ['\\r | \\n\\r\\n', 3],
  ])('finds the empty line when it is split across reads as %s', async (_, tail) => {
    const bytes = fill(get('/hello'), server.port);
    await check({ name: '', request: get('/hello'), expect: helloServer }, { pieces: [bytes.length - tail, tail], pauseMs: 20 }, `with its last ${tail} bytes in a second read`);
  });

  it('answers a head of exactly 16 KiB, empty line included', async () => {
    const result = await exchange(server.port, headOfSize(MAX_HEAD_BYTES, server.port), { delivery: { pieces: [1000] } });
    expectResponse(server, result, hello, `A head of exactly ${MAX_HEAD_BYTES} bytes is within the limit: it should get 200 and Hello, World!`);
  });

  it('answers 431 and closes when the head is one byte over 16 KiB', async () => {
    const result = await exchange(server.port, headOfSize(MAX_HEAD_BYTES + 1, server.port), { delivery: { pieces: [1000] } });
    expectResponse(server, result, status(431), `A head of ${MAX_HEAD_BYTES + 1} bytes is over the 16 KiB limit: 431 Request Header Fields Too Large (RFC 6585 §5), and a close.`);
    expectClosed(server, result, 'After the 431 the server should close the connection.');
  });

  it('answers 431 without a body when the head over 16 KiB asks for HEAD', async () => {
    const result = await exchange(server.port, headOfSize(MAX_HEAD_BYTES + 1, server.port, 'HEAD'), { delivery: { pieces: [1000] } });
    expectResponse(server, result, { ...status(431), noBody: true }, 'The answer to a HEAD never has a body (RFC 9110 §9.3.2), not even a 431 to a head too large to read: its first bytes say HEAD.');
    expectClosed(server, result, 'After the 431 the server should close the connection.');
  });

  it('answers 431 to a head that never ends, without waiting for the client to stop', async () => {
    // 20 KiB of field lines and no empty line, with the connection left open: a server that
    // waits for the end of the head would wait forever, holding every byte.
    const lines = Buffer.from(`GET / HTTP/1.1\r\n${'X-Junk: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(400)}`, 'latin1');
    const result = await exchange(server.port, lines);
    expectResponse(server, result, status(431), 'A head that passes 16 KiB without an empty line should get 431 at once, and a close.');
    expectClosed(server, result, 'After the 431 the server should close the connection.');
  });

  it('keeps one buffer per connection: 10 clients sending their heads a byte at a time, interleaved, each get their own answer', async () => {
    const targets = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? '/' : '/hello'));
    const results = await Promise.all(targets.map((target) => exchange(server.port, fill(get(target), server.port), { delivery: 'byte-by-byte' })));
    results.forEach((result, i) => {
      expectResponse(server, result, targets[i] === '/' ? hello : helloServer, `Client ${i + 1} of 10 asked for ${targets[i]} while the others sent theirs: bytes of one connection must never mix with another's.`);
    });
  });
});

describe(`chapter 03 server, after a client hangs up mid-head (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  beforeEach(() => server.clearErrors());
  afterAll(() => server.close());

  it('keeps serving others, and reports no error', async () => {
    const quitter = await RawConnection.open(server.port);
    await quitter.send(`GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Half: `);
    await sleep(20);
    quitter.close();
    await sleep(20);
    const result = await exchange(server.port, fill(get('/'), server.port));
    expectResponse(server, result, hello, 'After one client hung up in the middle of its head, the next client should be answered as usual.');
    expect(server.errors.map(String), 'errors the server reported when a client hung up mid-head (it should take it in its stride)').toEqual([]);
  });
});

describe(`chapter 03 client (${impl.label}/client.ts)`, () => {
  const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\nConnection: close\r\n\r\nStreamed, whole.';

  async function run(pieces: string[], pauseMs: number) {
    const scripted = await startScriptedServer(async (connection) => {
      if (!(await connection.waitForHead())) return;
      await connection.send(pieces, pauseMs);
      connection.end();
    });
    try {
      return await callClient(`request("${scripted.url('/')}")`, () => impl.client.request(scripted.url('/')), {
        received: () => scripted.connections[0]?.received ?? Buffer.alloc(0),
      });
    } finally {
      await scripted.close();
    }
  }

  it.each([
    ['one byte at a time', [...RESPONSE], 1],
    ['with the empty line split as \\r\\n\\r | \\n', [RESPONSE.slice(0, RESPONSE.indexOf('\r\n\r\n') + 3), RESPONSE.slice(RESPONSE.indexOf('\r\n\r\n') + 3)], 20],
    ['with the head in one read and the body in three', [RESPONSE.slice(0, 80), RESPONSE.slice(80, 84), RESPONSE.slice(84, 90), RESPONSE.slice(90)], 10],
  ])('reads a response that arrives %s', async (_, pieces, pauseMs) => {
    const response = await run(pieces as string[], pauseMs as number);
    expect(
      { status: response.status, type: response.headers?.get('content-type'), body: response.body?.toString('latin1') },
      'what request() returned',
    ).toEqual({ status: 200, type: 'text/plain', body: 'Streamed, whole.' });
  });

  it('rejects a response whose head is cut off by a close, with an error that says so', async () => {
    const scripted = await startScriptedServer(async (connection) => {
      if (!(await connection.waitForHead())) return;
      await connection.send('HTTP/1.1 200 OK\r\nContent-Type: te');
      connection.end();
    });
    const message = await rejectionOf(() => impl.client.request(scripted.url('/')));
    await scripted.close();
    expect(message, 'request() should reject a response cut off before the end of its head, saying that the head is incomplete').toMatch(
      /before the end of the (response )?head|head (is |was )?(incomplete|cut off|not complete)/i,
    );
  });

  it('rejects a response head over 16 KiB, with an error that says so', async () => {
    const scripted = await startScriptedServer(async (connection) => {
      if (!(await connection.waitForHead())) return;
      await connection.send(`HTTP/1.1 200 OK\r\n${'X-Junk: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(400)}`);
    });
    const message = await rejectionOf(() => impl.client.request(scripted.url('/')));
    await scripted.close();
    expect(message, 'request() should refuse a response head over 16 KiB instead of buffering it forever').toMatch(/head.*(long|large|limit)|(long|large|limit).*head/i);
  });
});
