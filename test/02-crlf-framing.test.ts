// Chapter 02: CRLF framing. The server reads the request line and the header fields, and
// answers each request with the status the RFCs give it; the client builds requests with any
// method and fields, and parses the status line and the fields of the response.
//
// Every request here carries `Connection: close` (or is HTTP/1.0), so servers that keep
// connections open from chapter 05 on still close after answering, and every request is
// sent whole: chapter 03's tests send these same requests split every way.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  callClient,
  escapeBytes,
  exchange,
  expectClosed,
  expectResponse,
  fail,
  failServer,
  findProblem,
  firstDifference,
  loadImplementation,
  readHead,
  rejectionOf,
  startScriptedServer,
  startServerUnderTest,
  type ServerContract,
  type ServerUnderTest,
} from './harness/index.ts';
import { runTs } from '../tools/spawn.ts';
import { CLOSE, HOST, accepted, answered, fill, get, heads, rejected, type Case } from './cases/requests.ts';

interface Client {
  request(
    url: string,
    options?: { method?: string; headers?: Array<[string, string]> },
  ): Promise<{ raw: Buffer; status: number; reason: string; headers: { get(name: string): string | undefined }; body: Buffer }>;
}

const required = { server: ['startServer'], client: ['request'] } as const;
const impl = await loadImplementation<ServerContract, Client>('02-crlf-framing', required);

describe(`chapter 02 server (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  beforeEach(() => server.clearErrors());
  afterAll(() => server.close());

  async function check(testCase: Case, what: string): Promise<void> {
    const result = await exchange(server.port, fill(testCase.request, server.port));
    expectResponse(server, result, testCase.expect, what);
    expectClosed(server, result, `${what} The server should close the connection after this response.`);
  }

  it.each(accepted.map((c) => [c.name, c] as const))('accepts %s', async (_, testCase) => {
    await check(testCase, `This request is valid and should be answered ${testCase.expect.status} with its body.`);
  });

  it.each(answered.map((c) => [c.name, c] as const))('answers %s', async (_, testCase) => {
    await check(testCase, `This request should be answered ${testCase.expect.status}, with Content-Length and Connection: close.`);
  });

  it.each(rejected.map((c) => [c.name, c] as const))('rejects %s with 400', async (_, testCase) => {
    await check(testCase, 'This request is malformed: it should be answered 400 Bad Request, and the connection closed.');
  });

  it.each([
    ['/', '13'],
    ['/hello', '22'],
  ])('answers HEAD %s with the fields GET gets, and no body (RFC 9110 §9.3.2)', async (path, length) => {
    const headRequest = `HEAD ${path} HTTP/1.1\r\n${HOST}${CLOSE}\r\n`;
    const result = await exchange(server.port, fill(headRequest, server.port));
    expectResponse(
      server,
      result,
      { status: 200, headers: { 'Content-Type': 'text/plain', 'Content-Length': length }, noBody: true },
      `HEAD ${path} should get the same status and fields as GET ${path} (Content-Length: ${length}), then nothing after the empty line.`,
    );
  });

  it.each(heads.slice(2).map((c) => [c.name, c] as const))('answers %s', async (_, testCase) => {
    await check(testCase, `The answer to a HEAD request never has a body, not even an error answer (RFC 9110 §9.3.2): ${testCase.expect.status}, and nothing after the empty line.`);
  });

  it('gives an error response the same shape as any other: Content-Type, a Content-Length that counts the body, Connection: close', async () => {
    const result = await exchange(server.port, fill(get('/nope'), server.port));
    const head = readHead(result.received);
    const problem = findProblem(result.received, { status: 404, headers: { Connection: 'close' } }, result.outcome === 'closed');
    const hasType = head?.fields.some((field) => field.name.toLowerCase() === 'content-type');
    const hasLength = head?.fields.some((field) => field.name.toLowerCase() === 'content-length');
    if (problem || !hasType || !hasLength || result.received.length === (head?.bodyAt ?? 0)) {
      failServer(server, {
        expected: 'A 404 is a response like any other: Content-Type, Content-Length, Connection: close, and a short body that says what went wrong.',
        problem: problem ?? undefined,
        sent: result.sent,
        received: result.received,
        outcome: result.outcome,
      });
    }
  });
});

describe(`chapter 02 client (${impl.label}/client.ts)`, () => {
  /** Runs `call` against a server that answers `response` and closes; returns what it sent and got. */
  async function withResponse<T>(response: string, call: (url: (path: string) => string) => Promise<T>) {
    const scripted = await startScriptedServer(async (connection) => {
      if (!(await connection.waitForHead())) return;
      await connection.send(response);
      connection.end();
    });
    try {
      const received = (): Buffer => scripted.connections[0]?.received ?? Buffer.alloc(0);
      const result = await callClient('the request', () => call(scripted.url), { received });
      return { result, sent: received(), port: scripted.port };
    } finally {
      await scripted.close();
    }
  }

  it('sends the method, the target, Host, the extra fields in order, Connection: close and the empty line', async () => {
    const { sent, port } = await withResponse('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', (url) =>
      impl.client.request(url('/things/1?x=y'), { method: 'DELETE', headers: [['X-Trace', 'abc'], ['Accept', 'text/plain']] }),
    );
    const expected = Buffer.from(
      `DELETE /things/1?x=y HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Trace: abc\r\nAccept: text/plain\r\nConnection: close\r\n\r\n`,
    );
    const at = firstDifference(sent, expected);
    if (at >= 0) {
      fail({
        expected:
          `request(url, { method: 'DELETE', headers: [['X-Trace', 'abc'], ['Accept', 'text/plain']] }) should send exactly:\n\n    ` +
          escapeBytes(expected).replaceAll('\\n', '\\n\n    '),
        problem: { summary: 'The request differs from it here.', at, note: `expected "${escapeBytes(expected.subarray(at, at + 20))}"` },
        received: sent,
        receivedLabel: 'the server received from the client',
      });
    }
  });

  it.each([
    ['HTTP/1.1 200 OK', 200, 'OK'],
    ['HTTP/1.1 404 Not Found', 404, 'Not Found'],
    ['HTTP/1.1 299 A Reason Of Its Own', 299, 'A Reason Of Its Own'],
    ['HTTP/1.0 200 OK', 200, 'OK'],
    ['HTTP/1.1 204 ', 204, ''],
    ['HTTP/1.1 204', 204, ''],
  ])('reads the status line "%s" as %i and reason "%s"', async (line, code, reason) => {
    const { result } = await withResponse(`${line}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, (url) => impl.client.request(url('/')));
    expect({ status: result.status, reason: result.reason }, `what request() made of the status line "${line}"`).toEqual({ status: code, reason });
  });

  it('looks fields up in any case, joins repeated fields with ", ", and returns the body', async () => {
    const response =
      'HTTP/1.1 200 OK\r\ncontent-TYPE: text/x-test\r\nX-MULTI: a\r\nx-multi: b\r\nContent-Length: 14\r\nConnection: close\r\n\r\nHello, parser!';
    const { result } = await withResponse(response, (url) => impl.client.request(url('/')));
    expect(
      {
        'get("Content-Type")': result.headers.get('Content-Type'),
        'get("content-type")': result.headers.get('content-type'),
        'get("X-Multi")': result.headers.get('X-Multi'),
        'get("X-Absent")': result.headers.get('X-Absent'),
        body: result.body?.toString('latin1'),
      },
      'what request() returned for a response with mixed-case field names',
    ).toEqual({
      'get("Content-Type")': 'text/x-test',
      'get("content-type")': 'text/x-test',
      'get("X-Multi")': 'a, b',
      'get("X-Absent")': undefined,
      body: 'Hello, parser!',
    });
  });

  it.each(['HTTP/1.1 OK', 'HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTP/1.1 200 OK', 'HTTP/1.1  200 OK', 'hello world'])(
    'rejects the malformed status line "%s" with an error that says so',
    async (line) => {
      const scripted = await startScriptedServer(async (connection) => {
        if (!(await connection.waitForHead())) return;
        await connection.send(`${line}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        connection.end();
      });
      const message = await rejectionOf(() => impl.client.request(scripted.url('/')));
      await scripted.close();
      expect(message, `request() should reject a response whose status line is "${line}", with a message about the status line`).toMatch(
        /status line/i,
      );
    },
  );

  it('shows the exact bytes both ways with --raw, \\r\\n visible', async () => {
    const server = await startServerUnderTest(impl);
    try {
      const client = await runTs(`${impl.dir}/client.ts`, ['--raw', `${server.url}/hello`]).finished;
      const out = client.stdout;
      const wanted = ['> GET /hello HTTP/1.1\\r\\n', '< HTTP/1.1 200 OK\\r\\n', '< \\r\\n'];
      const missing = wanted.filter((line) => !out.includes(line));
      if (client.code !== 0 || missing.length > 0) {
        fail({
          expected: `\`${impl.clientCommand} --raw ${server.url}/hello\` should print what it sent ("> " lines) and what it received ("< " lines), escaped, including: ${wanted.join('  ')}`,
          received: Buffer.from(out + client.stderr),
          receivedLabel: `the client printed (exit code ${client.code})`,
        });
      }
    } finally {
      await server.close();
    }
  });
});
