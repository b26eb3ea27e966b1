// Chapter 05: keep-alive and pipelining. An HTTP/1.1 connection carries request after
// request (RFC 9112 §9.3); pipelined requests are answered in order (§9.3.2); the server
// closes when asked (§9.6), for HTTP/1.0 unless asked to keep the connection, after every
// error, and when a connection sits idle; it says Connection: close exactly when it closes.
// The client reuses its connection, opens a new one when the server closed the old, retries
// only what is safe to send twice, and pipelines; its REST console is driven through stdin.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawConnection,
  contentLengthResponseEnd,
  exchange,
  expectResponse,
  fail,
  failServer,
  fieldValues,
  loadImplementation,
  readHead,
  splitResponses,
  startScriptedServer,
  startServerUnderTest,
  type ScriptedConnection,
  type ServerContract,
  type ServerUnderTest,
} from './harness/index.ts';
import { runTs } from '../tools/spawn.ts';

interface KeptResponse {
  status: number;
  body: Buffer;
  headers: { get(name: string): string | undefined };
  connection: number;
  reused: boolean;
}
interface RequestOptions {
  method?: string;
  body?: Buffer | string;
  headers?: Array<[string, string]>;
}
interface Client {
  request(url: string): Promise<unknown>;
  KeepAliveClient: new (url: string) => {
    request(path: string, options?: RequestOptions): Promise<KeptResponse>;
    pipeline(requests: Array<{ path: string; options?: RequestOptions }>): Promise<KeptResponse[]>;
    close(): void;
    connections: number;
  };
}

const required = { server: ['startServer'], client: ['request', 'KeepAliveClient'] } as const;
const impl = await loadImplementation<ServerContract<{ idleTimeoutMs?: number }>, Client>('05-keep-alive', required);

const complete = (count: number) => (raw: Buffer): boolean => splitResponses(raw).length >= count;
/** The JSON body of a response, or {} when it has none: the expectation then says what was wanted. */
const json = (response: Buffer): Record<string, unknown> => {
  const head = readHead(response);
  try {
    return head ? (JSON.parse(response.subarray(head.bodyAt).toString('utf8')) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const connectionField = (response: Buffer): string | undefined => {
  const head = readHead(response);
  return head ? fieldValues(head, 'connection')[0] : undefined;
};

describe.concurrent(`chapter 05 server (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  afterAll(() => server.close());

  const info = (port: number, extra = ''): string => `GET /info HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}\r\n`;

  it('answers three requests on one connection: /info counts 1, 2, 3, and only the last says Connection: close', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      const seen: Array<Record<string, unknown>> = [];
      const fields: Array<string | undefined> = [];
      for (let i = 1; i <= 3; i++) {
        const before = connection.bytes.length;
        await connection.send(info(server.port, i === 3 ? 'Connection: close\r\n' : ''));
        const outcome = await connection.read((raw) => contentLengthResponseEnd(raw.subarray(before)) !== null);
        const response = connection.bytes.subarray(before);
        if (outcome !== 'complete') {
          failServer(server, {
            expected: `Request ${i} of 3 on one connection should be answered${i > 1 ? ' on the same connection: HTTP/1.1 keeps it open (RFC 9112 §9.3)' : ''}.`,
            sent: connection.sentBytes,
            received: connection.bytes,
            outcome,
          });
        }
        seen.push(json(response));
        fields.push(connectionField(response));
      }
      expect(
        { requests: seen.map((answer) => answer.requests), sameConnection: new Set(seen.map((answer) => answer.connection)).size, connectionFields: fields },
        'what /info said on each of three requests over one connection, and the Connection field of each response',
      ).toEqual({ requests: [1, 2, 3], sameConnection: 1, connectionFields: [undefined, undefined, 'close'] });
      expect(await connection.read(), 'after the request that said Connection: close, the server closes').toBe('closed');
    } finally {
      connection.close();
    }
  });

  it('names the connection and the peer at /info', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      await connection.send(info(server.port, 'Connection: close\r\n'));
      await connection.read();
      const answer = json(connection.bytes);
      expect({ peer: answer.peer, id: typeof answer.connection }, 'the peer and connection id /info gave').toEqual({
        peer: `127.0.0.1:${connection.socket.localPort}`,
        id: 'number',
      });
    } finally {
      connection.close();
    }
  });

  it('answers ten pipelined requests, sent in one write, in order', async () => {
    const requests = Array.from({ length: 10 }, (_, i) => info(server.port, i === 9 ? 'Connection: close\r\n' : '')).join('');
    const result = await exchange(server.port, requests, { until: complete(10) });
    const responses = splitResponses(result.received);
    const order = responses.map((response) => json(response).requests);
    if (responses.length !== 10 || order.join() !== '1,2,3,4,5,6,7,8,9,10') {
      failServer(server, {
        expected: `Ten requests in one write (pipelining, RFC 9112 §9.3.2) should get ten responses, in order: /info counting 1 to 10. Got ${responses.length}, counting ${order.join(', ')}.`,
        sent: result.sent,
        received: result.received,
        outcome: result.outcome,
      });
    }
  });

  it('answers pipelined POST /echo requests however the bytes are split, at every byte boundary', async () => {
    const post = (body: string, last: boolean): string =>
      `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${last ? 'Connection: close\r\n' : ''}\r\n${body}`;
    const bytes = Buffer.from(post('one', false) + post('two', false) + post('three ✓', true), 'utf8');
    const failures: string[] = [];
    for (let start = 1; start < bytes.length; start += 25) {
      const splits = Array.from({ length: Math.min(25, bytes.length - start) }, (_, k) => start + k);
      await Promise.all(
        splits.map(async (at) => {
          const result = await exchange(server.port, bytes, { delivery: { pieces: [at, bytes.length - at], pauseMs: 2 }, until: complete(3) });
          const bodies = splitResponses(result.received).map((response) => response.subarray(readHead(response)!.bodyAt).toString('utf8'));
          if (bodies.join('|') !== 'one|two|three ✓') failures.push(`split at byte ${at}: got ${JSON.stringify(bodies)}`);
        }),
      );
    }
    expect(failures, 'three pipelined POST /echo requests, split in two at each byte: every split should echo one, two, three ✓ in order').toEqual([]);
  });

  it('keeps an HTTP/1.0 connection only when asked: Connection: keep-alive', async () => {
    const plain = await exchange(server.port, 'GET / HTTP/1.0\r\n\r\n');
    expectResponse(server, plain, { status: 200, headers: { Connection: 'close' }, body: 'Hello, World!' }, 'HTTP/1.0 closes by default (RFC 9112 §9.3): the answer says Connection: close, and the server closes.');
    expect(plain.outcome, 'after an HTTP/1.0 answer without keep-alive, the server closes').toBe('closed');

    const connection = await RawConnection.open(server.port);
    try {
      await connection.send('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      await connection.read((raw) => contentLengthResponseEnd(raw) !== null);
      expectResponse(server, { sent: connection.sentBytes, received: connection.bytes, outcome: 'complete' }, { status: 200, headers: { Connection: 'keep-alive' }, body: 'Hello, World!' }, 'HTTP/1.0 with Connection: keep-alive: the answer says Connection: keep-alive, and the connection stays open.');
      const before = connection.bytes.length;
      await connection.send('GET /hello HTTP/1.0\r\n\r\n');
      const outcome = await connection.read();
      expectResponse(server, { sent: connection.sentBytes, received: connection.bytes.subarray(before), outcome }, { status: 200, headers: { Connection: 'close' }, body: 'Hello from the server!' }, 'A second HTTP/1.0 request on the kept connection, this time without keep-alive: answered, then closed.');
    } finally {
      connection.close();
    }
  });

  it('sends 100 Continue in turn: after the answer to the request pipelined before it', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      await connection.send(
        `${info(server.port)}POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
      const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
      await connection.read((raw) => raw.includes(interim));
      await connection.send('ok');
      const outcome = await connection.read();
      const text = connection.bytes.toString('latin1');
      const first = text.indexOf('HTTP/1.1 200 OK');
      const interimAt = text.indexOf(interim);
      if (first !== 0 || interimAt < first || !text.endsWith('\r\n\r\nok')) {
        failServer(server, {
          expected:
            'GET /info, then a POST with Expect: 100-continue, in one write: the answer to GET /info comes first, then 100 Continue, then (once the body is sent) the answer to the POST. Responses go out in the order of the requests, interim ones too (RFC 9112 §9.3.2).',
          sent: connection.sentBytes,
          received: connection.bytes,
          outcome,
        });
      }
    } finally {
      connection.close();
    }
  });

  it('answers a request that says Connection: close, and nothing pipelined after it', async () => {
    const bytes = `GET /hello HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n${info(server.port)}`;
    const result = await exchange(server.port, bytes);
    const responses = splitResponses(result.received);
    if (responses.length !== 1 || result.outcome !== 'closed') {
      failServer(server, {
        expected: 'After a request with Connection: close, the server answers it and reads nothing more (RFC 9112 §9.6): one response, then the close.',
        sent: result.sent,
        received: result.received,
        outcome: result.outcome,
      });
    }
  });

  it('closes after an error response, saying so, and answers nothing pipelined after it', async () => {
    const bytes = `GET /nope HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n${info(server.port)}`;
    const result = await exchange(server.port, bytes);
    expectResponse(server, { ...result, received: splitResponses(result.received)[0] ?? result.received }, { status: 404, headers: { Connection: 'close' } }, 'An error response closes the connection, and says Connection: close.');
    if (splitResponses(result.received).length !== 1 || result.outcome !== 'closed') {
      failServer(server, { expected: 'After the 404 the server closes: the pipelined /info is not answered.', sent: result.sent, received: result.received, outcome: result.outcome });
    }
  });
});

describe(`chapter 05 server, idle connections (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl, { idleTimeoutMs: 150 });
  });
  afterAll(() => server.close());

  it('closes a connection that stays idle past the idle timeout (150 ms here)', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      await connection.send(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
      const answered = await connection.read((raw) => contentLengthResponseEnd(raw) !== null);
      const outcome = await connection.read(undefined, 3000);
      if (answered !== 'complete' || outcome !== 'closed') {
        failServer(server, {
          expected: 'startServer({ idleTimeoutMs: 150 }): after answering, the server keeps the connection open, then closes it once it has been idle for 150 ms (RFC 9112 §9.5).',
          sent: connection.sentBytes,
          received: connection.bytes,
          outcome,
        });
      }
    } finally {
      connection.close();
    }
  });
});

/** A server that answers every request on a connection in turn, until told otherwise. */
function answering(respond: (request: Buffer, index: number, connection: ScriptedConnection) => Promise<boolean>) {
  return startScriptedServer(async (connection) => {
    for (let i = 0; ; i++) {
      const request = await connection.nextRequest(5000);
      if (!request) return;
      if (!(await respond(request, i, connection))) return;
    }
  });
}

const ok = (body: string): string => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe(`chapter 05 client (${impl.label}/client.ts)`, () => {
  it('sends several requests over one connection', async () => {
    const scripted = await answering(async (_, i, connection) => {
      await connection.send(ok(`answer ${i + 1}`));
      return true;
    });
    const client = new impl.client.KeepAliveClient(scripted.url('/'));
    try {
      const answers: KeptResponse[] = [];
      for (let i = 0; i < 3; i++) answers.push(await client.request('/things'));
      expect(
        { connections: scripted.connections.length, bodies: answers.map((answer) => answer.body.toString()), reused: answers.map((answer) => answer.reused) },
        'three requests through one KeepAliveClient: the scripted server counts the connections it accepted',
      ).toEqual({ connections: 1, bodies: ['answer 1', 'answer 2', 'answer 3'], reused: [false, true, true] });
    } finally {
      client.close();
      await scripted.close();
    }
  });

  it('opens a new connection when the server has closed an idle one', async () => {
    const scripted = await answering(async (_, __, connection) => {
      await connection.send(ok('fresh'));
      await sleep(30);
      connection.end(); // idle: the server closes
      return false;
    });
    const client = new impl.client.KeepAliveClient(scripted.url('/'));
    try {
      const first = await client.request('/a');
      await sleep(150);
      const second = await client.request('/b');
      expect(
        { connections: scripted.connections.length, bodies: [first.body.toString(), second.body.toString()] },
        'a request after the server closed the idle connection goes out on a new one',
      ).toEqual({ connections: 2, bodies: ['fresh', 'fresh'] });
    } finally {
      client.close();
      await scripted.close();
    }
  });

  it.each([
    ['GET', true],
    ['POST', false],
  ])('when a kept connection closes just as a %s is sent, retries it on a new one: %s', async (method, retried) => {
    // The first connection answers one request, then hangs up on the second without a word:
    // the server may never have seen it. Only a request that is safe to repeat goes again.
    const scripted = await answering(async (_, i, connection) => {
      if (connection === scripted.connections[0] && i === 1) {
        connection.socket.destroy();
        return false;
      }
      await connection.send(ok(`answer from connection ${scripted.connections.indexOf(connection) + 1}`));
      return true;
    });
    const client = new impl.client.KeepAliveClient(scripted.url('/'));
    try {
      await client.request('/warm');
      let outcome: string;
      try {
        const answer = await client.request('/again', { method, body: method === 'POST' ? 'x' : undefined });
        outcome = answer.body.toString();
      } catch {
        outcome = 'rejected';
      }
      expect(outcome, `${method} on a kept connection that closed before answering: ${retried ? 'sent again on a new connection (RFC 9110 §9.2.2: GET is idempotent)' : 'not sent again: POST is not idempotent (RFC 9112 §9.3.1); the call rejects'}`).toBe(
        retried ? 'answer from connection 2' : 'rejected',
      );
    } finally {
      client.close();
      await scripted.close();
    }
  });

  it('pipelines: sends every request before reading the first answer, and matches the answers in order', async () => {
    // This server answers nothing until all three requests have come: a client that waits
    // for each answer before sending the next would wait forever.
    const scripted = await startScriptedServer(async (connection) => {
      const requests: Buffer[] = [];
      for (let i = 0; i < 3; i++) {
        const request = await connection.nextRequest(2000);
        if (!request) return;
        requests.push(request);
      }
      await connection.send(requests.map((request) => ok(request.toString('latin1').split(' ')[1]!)).join(''));
    });
    const client = new impl.client.KeepAliveClient(scripted.url('/'));
    try {
      const answers = await Promise.race([
        client.pipeline([{ path: '/one' }, { path: '/two' }, { path: '/three' }]),
        sleep(3000).then(() => []),
      ]);
      expect(answers.map((answer) => answer.body.toString()), 'the bodies pipeline() returned, in order').toEqual(['/one', '/two', '/three']);
    } finally {
      client.close();
      await scripted.close();
    }
  });
});

describe(`chapter 05 REST console (${impl.label}/client.ts --interactive)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl);
  });
  afterAll(() => server.close());

  async function consoleSession(lines: string[]) {
    const running = runTs(`${impl.dir}/client.ts`, ['--interactive', `${server.url}/`], {}, lines.join('\n') + '\n');
    return running.finished;
  }

  it('runs requests typed one per line, shows each raw response and a summary, and exits on "exit"', async () => {
    const { code, stdout, stderr } = await consoleSession(['POST /data héllo', 'GET /data/1', 'PUT /data/1 new', 'DELETE /data/1', 'GET /data/1', 'exit']);
    const wanted = ['< HTTP/1.1 201 Created\\r\\n', '6 bytes sent', '< h\\xc3\\xa9llo', '< HTTP/1.1 204 No Content\\r\\n', '< HTTP/1.1 404 Not Found\\r\\n', 'reused'];
    const missing = wanted.filter((text) => !stdout.includes(text));
    if (code !== 0 || missing.length > 0) {
      fail({
        expected: `The console, given POST /data héllo, GET /data/1, PUT, DELETE, GET and exit, should print each raw response ("< " lines), a summary line per request (héllo is 6 bytes sent), reuse its connection, and exit 0. Missing: ${missing.join('  ')}`,
        received: Buffer.from(stdout + stderr),
        receivedLabel: `the console printed (exit code ${code})`,
      });
    }
  });

  it('answers invalid input with a message, never a stack trace, keeps serving valid lines, and exits cleanly at the end of input', async () => {
    const { code, stdout, stderr } = await consoleSession(['BREW /pot', 'GET nowhere', 'GET /hello', 'GET /data extra', 'hello']);
    expect(
      { code, stack: /\n\s+at /.test(stdout + stderr), messages: (stdout.match(/^\?|rest> \?/gm) ?? []).length, answered: stdout.includes('< Hello from the server!') },
      'four invalid lines around a valid GET /hello, then the end of input: four messages, the answer to GET /hello, no stack trace, exit code 0',
    ).toEqual({ code: 0, stack: false, messages: 4, answered: true });
  });
});
