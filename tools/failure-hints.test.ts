import { describe, expect, it } from 'vitest';
import { plainHints } from './failure-hints.ts';

describe('plain-language hints for known failure causes', () => {
  it.each([
    ['connection refused', 'Error: connect ECONNREFUSED 127.0.0.1:8080', 'Connection refused'],
    ['an address in use', 'Error: listen EADDRINUSE: address already in use :::8080', 'Address in use'],
    ['a response that never ended', '  received (17 bytes), and then nothing more for 2 s, with the connection still open:\n    HTTP/1.1 200 OK\\r\\n', 'A timeout'],
    ['a client that never finished', 'fetch(url): it had not finished after 2 s.', 'A timeout'],
    ['a response with \\n line endings', '  received (20 bytes), and then the connection was closed:\n    HTTP/1.1 200 OK\\n\n    \\n\n', 'Line endings'],
    ['what a client sent with \\n line endings', '  the server received from the client (16 bytes):\n    GET / HTTP/1.1\\n\n', 'Line endings'],
  ])('explains %s', (_, report, start) => {
    expect(plainHints(report).map((hint) => hint.split(':')[0])).toEqual([start]);
  });

  it.each([
    ['CRLF line endings', '  received (19 bytes), and then the connection was closed:\n    HTTP/1.1 200 OK\\r\\n\n    \\r\\n\n'],
    ['a bare \\n the test itself sent', '  sent (16 bytes):\n    GET / HTTP/1.1\\n\n\n  received (0 bytes), and then the connection was closed:\n    (nothing)\n'],
    ['a wrong status', 'expected 200, received 404'],
    ['a body that ends in \\n after a CRLF head', '  received (60 bytes), and then the connection was closed:\n    HTTP/1.1 500 Internal Server Error\\r\\n\n    Content-Length: 3\\r\\n\n    \\r\\n\n    no\\n\n'],
  ])('says nothing about %s', (_, report) => {
    expect(plainHints(report)).toEqual([]);
  });
});
