// The grader is code too, and a grader that is wrong fails learners for nothing (or passes
// them for nothing). These tests pin down what it shows and what it accepts.

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { escapeBytes, firstDifference, showBytes } from './bytes.ts';
import { contentLengthResponseEnd, findProblem, findRequestProblem, readHead } from './http-check.ts';
import { GradingFailure, printfFormat, renderFailure } from './report.ts';
import { failServer, reproduce, type ServerUnderTest } from './implementation.ts';
import { startScriptedServer } from './scripted-server.ts';
import { RawConnection, exchange } from './wire.ts';

const ok = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!');
const hello = {
  status: 200,
  reason: 'OK',
  headers: { 'Content-Type': 'text/plain', Connection: 'close' },
  body: 'Hello, World!',
};

describe('showing bytes', () => {
  it.each([
    ['GET / HTTP/1.1\r\n', 'GET / HTTP/1.1\\r\\n'],
    ['a\tb\\c', 'a\\tb\\\\c'],
    ['\x00\x7f\xff', '\\x00\\x7f\\xff'],
  ])('escapes %j as %j', (input, shown) => {
    expect(escapeBytes(Buffer.from(input, 'latin1'))).toBe(shown);
  });

  it('puts one line of the message on each display line, and the caret under the wrong byte', () => {
    const shown = showBytes(Buffer.from('HTTP/1.1 200 OK\nX: y\r\n'), { indent: '', caret: { at: 15, note: 'here' } });
    expect(shown).toBe(['HTTP/1.1 200 OK\\n', '               ^ here', 'X: y\\r\\n'].join('\n'));
  });

  it('puts the caret just past the end when bytes are missing', () => {
    expect(showBytes(Buffer.from('ab'), { indent: '', caret: { at: 2, note: 'more' } })).toBe('ab\n  ^ more');
  });

  it('says (nothing) for no bytes', () => {
    expect(showBytes(Buffer.alloc(0), { indent: '' })).toBe('(nothing)');
  });

  it('cuts long output but keeps the caret in view', () => {
    const long = Buffer.alloc(5000, 'a');
    const shown = showBytes(long, { indent: '', caret: { at: 4000, note: 'x' }, maxBytes: 300 });
    expect(shown).toContain('^ x');
    expect(shown).toContain('bytes before this');
    expect(shown).toContain('more bytes');
  });

  it.each([
    ['abc', 'abc', -1],
    ['abc', 'abd', 2],
    ['ab', 'abc', 2],
    ['abc', 'ab', 2],
  ])('finds the first difference between %j and %j at %i', (a, b, at) => {
    expect(firstDifference(Buffer.from(a), Buffer.from(b))).toBe(at);
  });
});

describe('checking a response', () => {
  it('accepts a correct response', () => {
    expect(findProblem(ok, { ...hello, headers: { ...hello.headers, 'Content-Length': '13' } }, true)).toBeNull();
  });

  it('accepts field names in any case and values with surrounding spaces', () => {
    const raw = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type:   text/plain  \r\nCONNECTION: close\r\ncontent-length: 13\r\n\r\nHello, World!');
    expect(findProblem(raw, hello, true)).toBeNull();
  });

  it.each([
    ['nothing', '', 0, 'Nothing came'],
    ['a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', 15, 'bare \\n'],
    ['the wrong status', 'HTTP/1.1 404 Not Found\r\n\r\n', 9, 'status line'],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\n\r\n', 7, 'status line'],
    ['no empty line', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n', 43, 'never ended'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Type : text/plain\r\n\r\n', 17, 'token'],
    ['a line without a colon', 'HTTP/1.1 200 OK\r\nHello\r\n\r\n', 17, 'name: value'],
    ['a missing field', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, World!', 43, 'Connection: close'],
    ['a wrong field value', 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\nHello, World!', 31, 'text/plain'],
    ['a Content-Length that counts one too many', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 14\r\n\r\nHello, World!', 78, 'says 14'],
    ['a wrong body', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 13\r\n\r\nHello, world!', 91, 'body'],
  ])('finds %s, and where', (_, raw, at, summary) => {
    const problem = findProblem(Buffer.from(raw, 'latin1'), hello, true);
    expect(problem?.at).toBe(at);
    expect(problem?.summary).toContain(summary);
  });

  it('does not judge the body length until the connection has closed', () => {
    const partial = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello');
    expect(findProblem(partial, { status: 200 }, false)?.summary).toContain('only 5 body bytes');
  });

  it('finds where a response framed by Content-Length ends', () => {
    expect(contentLengthResponseEnd(ok)).toBe(ok.length);
    expect(contentLengthResponseEnd(ok.subarray(0, ok.length - 1))).toBeNull();
    expect(contentLengthResponseEnd(Buffer.concat([ok, Buffer.from('HTTP/1.1')]))).toBe(ok.length);
  });

  it('reads a head into fields with their offsets', () => {
    const head = readHead(ok)!;
    expect(head.statusLine).toBe('HTTP/1.1 200 OK');
    expect(head.fields.map((field) => [field.name, field.value])).toEqual([
      ['Content-Type', 'text/plain'],
      ['Content-Length', '13'],
      ['Connection', 'close'],
    ]);
    expect(ok.subarray(head.fields[1]!.valueAt, head.fields[1]!.valueAt + 2).toString()).toBe('13');
    expect(readHead(Buffer.from('HTTP/1.1 200 OK\r\n'))).toBeNull();
  });
});

describe('checking a request', () => {
  const expected = { requestLine: 'GET / HTTP/1.1', headers: { Host: 'example.com', Connection: 'close' } };

  it('accepts a correct request with extra fields', () => {
    expect(findRequestProblem(Buffer.from('GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: x\r\nConnection: close\r\n\r\n'), expected)).toBeNull();
  });

  it.each([
    ['a lower-case method', 'get / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n', 0],
    ['a missing Host', 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n', 35],
    ['bytes after the empty line', 'GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\nx', 56],
  ])('finds %s', (_, raw, at) => {
    expect(findRequestProblem(Buffer.from(raw), expected)?.at).toBe(at);
  });
});

describe('reporting a failure', () => {
  it('shows what was expected, the escaped bytes, the caret, the errors and the commands', () => {
    const received = Buffer.from('HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n');
    const text = renderFailure({
      expected: 'GET / should get 200.',
      sent: Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      received,
      outcome: 'closed',
      problem: findProblem(received, { status: 200 }, true)!,
      errors: [new Error('boom'), new Error('boom')],
      reproduce: ['npm run server -- 1'],
    });
    expect(text).toContain('GET / should get 200.');
    expect(text).toContain('sent (18 bytes):');
    expect(text).toContain('    GET / HTTP/1.1\\r\\n');
    expect(text).toContain('received (37 bytes), and then the connection was closed:');
    expect(text).toContain('^ expected \\r\\n here, found \\n');
    expect(text).toContain('boom\n      (2 times)');
    expect(text).toContain('try it by hand:\n    npm run server -- 1');
  });

  it("adds a server's errors and the commands that send the bytes again, for a failure of a server", () => {
    const server = { errors: [new Error('TODO(ch05): not written')], impl: { serverCommand: 'npm run server -- 5' } } as unknown as ServerUnderTest;
    let text = '';
    try {
      failServer(server, { expected: 'GET /info should be answered.', sent: Buffer.from('GET /info HTTP/1.1\r\nHost: 127.0.0.1:40000\r\n\r\n') });
    } catch (error) {
      text = (error as Error).message;
    }
    expect(text).toContain('errors reported along the way:\n    TODO(ch05): not written');
    expect(text).toContain('try it by hand:\n    npm run server -- 5');
    expect(text).toContain("printf 'GET /info HTTP/1.1\\r\\nHost: 127.0.0.1:8080\\r\\n\\r\\n' | nc 127.0.0.1 8080");
  });

  it('carries no stack of its own, so the report is all a learner sees', () => {
    expect(new GradingFailure('the report').stack).toBe('GradingFailure: the report');
  });

  it('writes bytes as a printf format that any shell replays exactly', () => {
    expect(printfFormat(Buffer.from("GET /%20 HTTP/1.1\r\nX: it's\\\x01\r\n\r\n", 'latin1'))).toBe(
      "GET /%%20 HTTP/1.1\\r\\nX: it'\\''s\\\\\\001\\r\\n\\r\\n",
    );
  });

  it('offers curl for a plain GET, printf | nc always, on port 8080', () => {
    const lines = reproduce({ serverCommand: 'npm run server -- 1' }, Buffer.from('GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:41234\r\n\r\n'));
    // Quoted: zsh would try to expand the "?".
    expect(lines[1]).toContain("curl -v 'http://127.0.0.1:8080/a?b=1'");
    expect(reproduce({ serverCommand: 'x' }, Buffer.from('GET /plain HTTP/1.1\r\nHost: a\r\n\r\n'))[1]).toContain('curl -v http://127.0.0.1:8080/plain ');
    expect(lines[2]).toBe("printf 'GET /a?b=1 HTTP/1.1\\r\\nHost: 127.0.0.1:8080\\r\\n\\r\\n' | nc 127.0.0.1 8080");
    expect(reproduce({ serverCommand: 'x' }, Buffer.from('POST / HTTP/1.1\r\n\r\nbody'))).toHaveLength(2);
  });
});

describe('the raw driver and the scripted server', () => {
  it('delivers bytes one at a time, each in a write of its own', async () => {
    const reads: number[] = [];
    const server = net.createServer((socket) => {
      socket.on('data', (chunk) => {
        reads.push(chunk.length);
        if (reads.reduce((a, b) => a + b, 0) === 5) socket.end('done');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const result = await exchange(port, 'hello', { delivery: 'byte-by-byte' });
    server.close();
    // Five writes, 1 byte each, with a pause between them. A server's event loop that is busy
    // (the whole suite runs at once) may find two of them waiting in one read; never all five.
    expect(reads.reduce((a, b) => a + b, 0)).toBe(5);
    expect(Math.max(...reads)).toBeLessThanOrEqual(2);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(result).toMatchObject({ outcome: 'closed', received: Buffer.from('done') });
  });

  it('reports a timeout, not a hang, when the server never answers', async () => {
    const server = net.createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const connection = await RawConnection.open(port);
    await connection.send('GET / HTTP/1.1\r\n\r\n');
    expect(await connection.read(undefined, 100)).toBe('timeout');
    connection.close();
    server.close();
  });

  it('stops reading when `until` is satisfied, with the connection still open', async () => {
    const scripted = await startScriptedServer(async (connection) => {
      await connection.waitForHead();
      await connection.send(ok);
    });
    const result = await exchange(scripted.port, 'GET / HTTP/1.1\r\n\r\n', { until: (raw) => contentLengthResponseEnd(raw) !== null });
    await scripted.close();
    expect(result.outcome).toBe('complete');
    expect(result.received.equals(ok)).toBe(true);
  });

  it('records what each connection sent, and sends pieces in order', async () => {
    const scripted = await startScriptedServer(async (connection) => {
      await connection.waitForHead();
      await connection.send(['a', 'b', 'c'], 5);
      connection.end();
    });
    const first = await exchange(scripted.port, 'GET /1 HTTP/1.1\r\n\r\n');
    const second = await exchange(scripted.port, 'GET /2 HTTP/1.1\r\n\r\n');
    await scripted.close();
    expect([first.received.toString(), second.received.toString()]).toEqual(['abc', 'abc']);
    expect(scripted.connections.map((connection) => connection.received.toString())).toEqual([
      'GET /1 HTTP/1.1\r\n\r\n',
      'GET /2 HTTP/1.1\r\n\r\n',
    ]);
  });

  it('rethrows an error from a script when it closes, so the test fails', async () => {
    const scripted = await startScriptedServer(async () => {
      throw new Error('script broke');
    });
    await exchange(scripted.port, 'x', { timeoutMs: 100 });
    await expect(scripted.close()).rejects.toThrow('script broke');
  });
});
