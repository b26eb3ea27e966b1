// Chapter 04: Content-Length. The server reads exactly as many body bytes as the head
// announces (RFC 9112 §6.3), counted in bytes, however they arrive and whatever follows
// them; refuses invalid lengths with 400 and too large ones with 413 before reading them;
// and serves /echo, /json and /data. The client sends bodies with a byte-exact length and
// reads a response body by its Content-Length, reporting one that was cut off.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RawConnection,
  SEED,
  callClient,
  contentLengthResponseEnd,
  escapeBytes,
  exchange,
  expectClosed,
  expectResponse,
  fail,
  failServer,
  firstDifference,
  loadImplementation,
  random,
  randomPieces,
  readHead,
  rejectionOf,
  replay,
  startScriptedServer,
  startServerUnderTest,
  type Delivery,
  type ServerContract,
  type ServerUnderTest,
} from './harness/index.ts';
import { status } from './cases/requests.ts';

interface ClientResponse {
  raw: Buffer;
  status: number;
  reason: string;
  headers: { get(name: string): string | undefined };
  body: Buffer;
}
interface Client {
  request(url: string, options?: { method?: string; headers?: Array<[string, string]>; body?: Buffer | string }): Promise<ClientResponse>;
}

const required = { server: ['startServer'], client: ['request'] } as const;
const impl = await loadImplementation<ServerContract, Client>('04-content-length', required);

const MAX_BODY_BYTES = 1024 * 1024;
const next = random(SEED);

const post = (port: number, path: string, body: Buffer | string, type = 'text/plain; charset=utf-8'): Buffer => {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes]);
};

const bodies: Array<[string, Buffer]> = [
  ['a short ASCII body', Buffer.from('hello')],
  ['a UTF-8 body whose bytes outnumber its characters (héllo wörld ✓: 13 characters, 17 bytes)', Buffer.from('héllo wörld ✓', 'utf8')],
  ['every byte value from 0x00 to 0xff', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
  ['an empty body (Content-Length: 0)', Buffer.alloc(0)],
];

const echoed = (body: Buffer) => ({
  status: 200,
  headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length) },
  body,
});

describe.concurrent(`chapter 04 server: bodies (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  afterAll(() => server.close());

  const deliveries: Array<[string, (length: number) => Delivery]> = [
    ['whole', () => 'whole'],
    ['one byte at a time', () => 'byte-by-byte'],
    ['in random pieces', (length) => ({ pieces: randomPieces(length, next, 24) })],
  ];

  for (const [how, delivery] of deliveries) {
    it.each(bodies)(`echoes %s sent ${how}`, async (name, body) => {
      const bytes = post(server.port, '/echo', body);
      const chosen = delivery(bytes.length);
      const result = await exchange(server.port, bytes, { delivery: chosen });
      const pieces = typeof chosen === 'object' ? ` (pieces of ${chosen.pieces.join(', ')} bytes; ${replay(`npm run check -- ${impl.chapter}`)})` : '';
      expectResponse(server, result, echoed(body), `POST /echo with ${name}, sent ${how}${pieces}, should be answered 200 with exactly the body's ${body.length} bytes and its Content-Type.`);
    });
  }

  it.each(bodies)('reads exactly the body of %s and not the next request behind it', async (name, body) => {
    const next = `GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`;
    const bytes = Buffer.concat([post(server.port, '/echo', body), Buffer.from(next)]);
    const result = await exchange(server.port, bytes, { until: (raw) => contentLengthResponseEnd(raw) !== null });
    expectResponse(
      server,
      result,
      echoed(body),
      `POST /echo with ${name}, followed at once by the bytes of another request: the body is exactly Content-Length bytes; what follows is not part of it.`,
    );
  });

  it('takes a request with neither Content-Length nor Transfer-Encoding to have no body (RFC 9112 §6.3 rule 7)', async () => {
    const bytes = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n`;
    const result = await exchange(server.port, bytes);
    expectResponse(server, result, { status: 200, headers: { 'Content-Length': '0' }, body: '' }, 'POST /echo without a Content-Length has an empty body, and is answered at once: 200 with Content-Length: 0.');
  });

  it('accepts a body of exactly 1 MiB', async () => {
    const body = Buffer.alloc(MAX_BODY_BYTES, 'b');
    const result = await exchange(server.port, post(server.port, '/echo', body), { until: (raw) => contentLengthResponseEnd(raw) !== null, timeoutMs: 5000 });
    expectResponse(server, result, echoed(body), 'A body of exactly 1 MiB is within the limit: it should be echoed.');
  });

  it('answers 400 and closes when chunked is not the last transfer coding (RFC 9112 §6.3 rule 4)', async () => {
    const bytes = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nTransfer-Encoding: gzip\r\n\r\nhello`;
    const result = await exchange(server.port, bytes);
    expectResponse(server, result, status(400), 'Transfer-Encoding: gzip leaves the end of the body unknown: 400, and a close.');
  });

  it('answers 413 to a Content-Length over 1 MiB at once, before any of the body is sent', async () => {
    const head = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`;
    const result = await exchange(server.port, head);
    expectResponse(server, result, status(413), 'Content-Length says 1 MiB + 1 byte: 413 Content Too Large (RFC 9110 §15.5.14), decided from the head, without waiting for the body; then a close.');
  });

  it('answers Expect: 100-continue with 100 Continue, then the response once the body is sent (RFC 9110 §10.1.1)', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      await connection.send(`POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
      const interim = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');
      const outcome = await connection.read((raw) => raw.length >= interim.length);
      if (outcome !== 'complete' || !connection.bytes.subarray(0, interim.length).equals(interim)) {
        failServer(server, {
          expected: 'The client sent Expect: 100-continue and waits: the server should send "HTTP/1.1 100 Continue\\r\\n\\r\\n" before the body comes.',
          sent: connection.sentBytes,
          received: connection.bytes,
          outcome,
        });
      }
      await connection.send('hello');
      const done = await connection.read();
      const result = { sent: connection.sentBytes, received: connection.bytes.subarray(interim.length), outcome: done };
      expectResponse(server, result, echoed(Buffer.from('hello')), 'After 100 Continue and the body, the final response: 200 with the body.');
    } finally {
      connection.close();
    }
  });
});

describe.concurrent(`chapter 04 server: lengths it refuses (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  afterAll(() => server.close());

  it.each([
    ['a plus sign', 'Content-Length: +5'],
    ['a minus sign', 'Content-Length: -1'],
    ['hexadecimal', 'Content-Length: 0x5'],
    ['an empty value', 'Content-Length:'],
    ['a decimal point', 'Content-Length: 5.0'],
    ['a space inside', 'Content-Length: 5 5'],
    ['a list of two values', 'Content-Length: 5, 6'],
    ['two fields with different values', 'Content-Length: 5\r\nContent-Length: 6'],
    ['two fields with the same value', 'Content-Length: 5\r\nContent-Length: 5'],
    ['2^64, which overflows a 64-bit integer', 'Content-Length: 18446744073709551616'],
    ['twenty nines', 'Content-Length: 99999999999999999999'],
    ['words', 'Content-Length: five'],
  ])('answers 400 and closes for %s (RFC 9112 §6.3 rule 5)', async (_, field) => {
    const bytes = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${field}\r\n\r\nhello`;
    const result = await exchange(server.port, bytes);
    expectResponse(server, result, status(400), `"${field.replace('\r\n', '" and "')}" is not a valid body length: 400 Bad Request, then a close, since where the body ends is unknown.`);
    expectClosed(server, result, 'After the 400 the server should close the connection.');
  });
});

describe(`chapter 04 server: routes (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  beforeEach(() => server.clearErrors());
  afterAll(() => server.close());

  async function ask(method: string, path: string, body?: string, type = 'text/plain') {
    const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n`;
    const bytes = body === undefined ? `${head}\r\n` : `${head}Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return exchange(server.port, Buffer.from(bytes, 'utf8'));
  }

  it('answers POST /json with a JSON description of what it received', async () => {
    const result = await ask('POST', '/json', '{"name":"héllo","list":[1,2,3]}', 'application/json');
    expectResponse(server, result, { status: 200, headers: { 'Content-Type': 'application/json' } }, 'POST /json with a valid JSON body: 200, application/json.');
    const head = readHead(result.received)!;
    const answer = JSON.parse(result.received.subarray(head.bodyAt).toString('utf8')) as { received?: unknown };
    expect(answer.received, 'the "received" member of the JSON answer').toEqual({ name: 'héllo', list: [1, 2, 3] });
  });

  it('answers POST /json with invalid JSON with 400 and a JSON error', async () => {
    const result = await ask('POST', '/json', '{"name": ', 'application/json');
    expectResponse(server, result, { status: 400, headers: { 'Content-Type': 'application/json' } }, 'POST /json with a body that is not JSON: 400, with a JSON body that says what is wrong.');
    const head = readHead(result.received)!;
    const answer = JSON.parse(result.received.subarray(head.bodyAt).toString('utf8')) as { error?: unknown };
    expect(typeof answer.error, 'the "error" member of the JSON answer').toBe('string');
  });

  it('creates, reads, lists, replaces and deletes at /data, with the right status for each step', async () => {
    const steps: string[] = [];
    const step = async (what: string, method: string, path: string, expected: Parameters<typeof expectResponse>[2], body?: string) => {
      steps.push(`${method} ${path}`);
      const result = await ask(method, path, body);
      expectResponse(server, result, expected, `Step ${steps.length} of the /data lifecycle (${steps.join(', then ')}): ${what}`);
      return result;
    };
    const created = await step('POST creates: 201 Created with a Location (RFC 9110 §15.3.2).', 'POST', '/data', { status: 201, headers: { 'Content-Type': 'application/json' } }, 'first');
    const location = readHead(created.received)?.fields.find((field) => field.name.toLowerCase() === 'location')?.value;
    if (!location?.startsWith('/data/')) {
      fail({ expected: 'The 201 should name the new resource in a Location field, like /data/1.', received: created.received, errors: server.errors });
    }
    await step('GET reads what was stored, with its Content-Type.', 'GET', location!, { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'first' });
    const list = await step('GET /data lists it.', 'GET', '/data', { status: 200, headers: { 'Content-Type': 'application/json' } });
    expect(list.received.toString('utf8'), 'the list at GET /data').toContain(location);
    await step('PUT replaces it: 204 No Content, no body.', 'PUT', location!, { status: 204, noBody: true }, 'second');
    await step('GET reads the replacement.', 'GET', location!, { status: 200, body: 'second' });
    await step('DELETE removes it: 204.', 'DELETE', location!, { status: 204, noBody: true });
    await step('GET after DELETE: 404.', 'GET', location!, { status: 404 });
    await step('DELETE again: 404.', 'DELETE', location!, { status: 404 });
    await step('PUT to an ID that does not exist: 404.', 'PUT', '/data/999999', { status: 404 }, 'x');
    await step('PATCH is not allowed on an item: 405 with Allow.', 'PATCH', location!, { status: 405, headers: { Allow: 'GET, HEAD, PUT, DELETE' } }, 'x');
  });

  it('sends no Content-Length with a 204 (RFC 9110 §8.6)', async () => {
    const created = await ask('POST', '/data', 'x');
    const location = readHead(created.received)?.fields.find((field) => field.name.toLowerCase() === 'location')?.value ?? '/data/1';
    const result = await ask('DELETE', location);
    const head = readHead(result.received);
    expect(head?.fields.map((field) => field.name.toLowerCase()) ?? [], 'the fields of the 204 to DELETE').not.toContain('content-length');
  });

  it("serves the /data lifecycle to the chapter's own client", async () => {
    const base = server.url;
    const call = (what: string, url: string, options?: Parameters<Client['request']>[1]) => callClient(what, () => impl.client.request(url, options));
    const created = await call('request(POST /data)', `${base}/data`, { method: 'POST', body: 'from the client ✓', headers: [['Content-Type', 'text/plain; charset=utf-8']] });
    const location = created.headers.get('location');
    const read = location ? await call(`request(GET ${location})`, `${base}${location}`) : undefined;
    const replaced = location ? await call(`request(PUT ${location})`, `${base}${location}`, { method: 'PUT', body: 'replaced' }) : undefined;
    const again = location ? await call(`request(GET ${location})`, `${base}${location}`) : undefined;
    const removed = location ? await call(`request(DELETE ${location})`, `${base}${location}`, { method: 'DELETE' }) : undefined;
    const gone = location ? await call(`request(GET ${location})`, `${base}${location}`) : undefined;
    expect(
      {
        created: created.status,
        location: location?.startsWith('/data/'),
        read: [read?.status, read?.body.toString('utf8')],
        replaced: replaced?.status,
        again: again?.body.toString('utf8'),
        removed: removed?.status,
        gone: gone?.status,
      },
      "what the chapter's client saw creating, reading, replacing and deleting /data",
    ).toEqual({ created: 201, location: true, read: [200, 'from the client ✓'], replaced: 204, again: 'replaced', removed: 204, gone: 404 });
  });

  it('serves the /data lifecycle to fetch() as well', async () => {
    const base = server.url;
    const created = await fetch(`${base}/data`, { method: 'POST', body: 'from fetch ✓', headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
    const location = created.headers.get('location');
    const read = location ? await fetch(`${base}${location}`) : undefined;
    const text = read ? await read.text() : undefined;
    const removed = location ? await fetch(`${base}${location}`, { method: 'DELETE' }) : undefined;
    expect(
      { created: created.status, location: location?.startsWith('/data/'), read: read?.status, text, type: read?.headers.get('content-type'), removed: removed?.status },
      'what fetch() saw creating, reading and deleting /data',
    ).toEqual({ created: 201, location: true, read: 200, text: 'from fetch ✓', type: 'text/plain; charset=utf-8', removed: 204 });
  });
});

describe(`chapter 04 client (${impl.label}/client.ts)`, () => {
  async function run(response: string[] | ((connection: import('./harness/index.ts').ScriptedConnection) => Promise<void>), call: (url: string) => Promise<ClientResponse>) {
    const scripted = await startScriptedServer(async (connection) => {
      if (!(await connection.waitFor((raw) => {
        const end = raw.indexOf('\r\n\r\n');
        const length = /content-length: *(\d+)/i.exec(raw.subarray(0, Math.max(end, 0)).toString('latin1'));
        return end >= 0 && raw.length >= end + 4 + Number(length?.[1] ?? 0);
      }))) return;
      if (typeof response === 'function') await response(connection);
      else {
        await connection.send(response, 10);
        connection.end();
      }
    });
    try {
      const received = (): Buffer => scripted.connections[0]?.received ?? Buffer.alloc(0);
      const result = await callClient('the request', () => call(scripted.url('/echo')), { received });
      return { result, sent: received(), port: scripted.port };
    } finally {
      await scripted.close();
    }
  }

  it('sends a body with a Content-Length that counts its bytes, not its characters', async () => {
    const body = 'héllo wörld ✓';
    const { sent, port } = await run(['HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'], (url) =>
      impl.client.request(url, { method: 'POST', headers: [['Content-Type', 'text/plain; charset=utf-8']], body }),
    );
    const expected = Buffer.concat([
      Buffer.from(`POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 17\r\nConnection: close\r\n\r\n`),
      Buffer.from(body, 'utf8'),
    ]);
    const at = firstDifference(sent, expected);
    if (at >= 0) {
      fail({
        expected: `request(url, { method: 'POST', body: '${body}' }) should send the body's 17 bytes (13 characters) with Content-Length: 17.`,
        problem: { summary: 'The request differs here.', at, note: `expected "${escapeBytes(expected.subarray(at, at + 20))}"` },
        received: sent,
        receivedLabel: 'the server received from the client',
      });
    }
  });

  it('reads the body by Content-Length without waiting for the server to close', async () => {
    const { result } = await run(async (connection) => {
      await connection.send('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
      // and leave the connection open
    }, (url) => impl.client.request(url));
    expect({ status: result.status, body: result.body?.toString() }, 'request() should resolve once the 5 bytes Content-Length announced have come, with the connection still open').toEqual({ status: 200, body: 'hello' });
  });

  it('does not take bytes past Content-Length into the body', async () => {
    const { result } = await run(async (connection) => {
      await connection.send('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA BYTES');
    }, (url) => impl.client.request(url));
    expect(result.body?.toString(), 'the body: exactly the 5 bytes of Content-Length').toBe('hello');
  });

  it.each([
    ['a response to HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n'],
    ['a 204', 'GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 13\r\n\r\n'],
    ['a 304', 'GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 13\r\n\r\n'],
  ])('takes %s to have no body, whatever Content-Length says (RFC 9112 §6.3 rule 1)', async (_, method, response) => {
    const { result } = await run(async (connection) => {
      await connection.send(response);
    }, (url) => impl.client.request(url, { method }));
    expect(result.body?.length, 'the body length request() returned').toBe(0);
  });

  it('skips an interim 100 Continue and returns the final response (RFC 9110 §15.2)', async () => {
    const { result } = await run(['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal'], (url) => impl.client.request(url));
    expect({ status: result.status, body: result.body?.toString() }, 'what request() returned after a 100 Continue and a 200').toEqual({ status: 200, body: 'final' });
  });

  it('reads a body split into pieces', async () => {
    const { result } = await run(['HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 11\r\n\r\nhel', 'lo wo', 'rld'], (url) => impl.client.request(url));
    expect(result.body?.toString(), 'the body of a response sent in four pieces').toBe('hello world');
  });

  it('reads to the close when there is no Content-Length (RFC 9112 §6.3 rule 8)', async () => {
    const { result } = await run(['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ', 'the close'], (url) => impl.client.request(url));
    expect(result.body?.toString(), 'the body of a response without a length').toBe('until the close');
  });

  it('reports a response cut off before its Content-Length as an error, never as a complete response', async () => {
    const scripted = await startScriptedServer(async (connection) => {
      if (!(await connection.waitForHead())) return;
      await connection.send('HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nonly ten b');
      connection.end();
    });
    const outcome = await rejectionOf(() => impl.client.request(scripted.url('/')));
    await scripted.close();
    expect(outcome, 'request() for a response that announces 20 body bytes and closes after 10 should reject, saying it was cut off').toMatch(
      /cut off|truncated|incomplete|before (all|the end)/i,
    );
  });
});
