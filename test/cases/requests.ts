// Chapter 02's requests, as data: valid ones, ones with a defined answer (404, 405, 501,
// 505) and malformed ones (400). Chapter 02 sends each whole; chapter 03 sends the same
// bytes one at a time and in random pieces, and expects the same answers.

import type { ExpectedResponse } from '../harness/index.ts';

/** A request case: `{host}` in the bytes becomes the server's address. */
export interface Case {
  name: string;
  request: string;
  expect: ExpectedResponse;
}

export const HOST = 'Host: {host}\r\n';
export const CLOSE = 'Connection: close\r\n';
export const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\n${HOST}${extra}${CLOSE}\r\n`;

export const hello: ExpectedResponse = { status: 200, headers: { 'Content-Type': 'text/plain', 'Content-Length': '13' }, body: 'Hello, World!' };
export const helloServer: ExpectedResponse = {
  status: 200,
  headers: { 'Content-Type': 'text/plain', 'Content-Length': '22' },
  body: 'Hello from the server!',
};
export const status = (code: number, headers: Record<string, string> = {}): ExpectedResponse => ({
  status: code,
  headers: { Connection: 'close', ...headers },
});

export const accepted: Case[] = [
  { name: 'GET /', request: get('/'), expect: hello },
  { name: 'GET /hello', request: get('/hello'), expect: helloServer },
  { name: 'a query after the path', request: get('/hello?lang=en&x=1'), expect: helloServer },
  { name: 'the absolute form of the target (RFC 9112 §3.2.2)', request: get('http://{host}/hello'), expect: helloServer },
  { name: 'field names in any case', request: `GET / HTTP/1.1\r\nhOsT: {host}\r\nconnection: close\r\n\r\n`, expect: hello },
  { name: 'spaces and tabs around a field value', request: get('/', 'X-Padded: \t value \t\r\n'), expect: hello },
  { name: 'an empty field value', request: get('/', 'X-Empty:\r\n'), expect: hello },
  { name: 'bytes 0x80-0xff (obs-text) in a field value', request: get('/', 'X-Latin: caf\xe9\r\n'), expect: hello },
  { name: 'an empty line before the request line (RFC 9112 §2.2)', request: `\r\n${get('/')}`, expect: hello },
  { name: 'HTTP/1.0 without Host', request: 'GET / HTTP/1.0\r\n\r\n', expect: hello },
  { name: 'HTTP/1.1 with a higher minor version, HTTP/1.2 (RFC 9110 §6.2)', request: 'GET / HTTP/1.2\r\nHost: {host}\r\nConnection: close\r\n\r\n', expect: hello },
];

export const answered: Case[] = [
  { name: 'an unknown path: 404', request: get('/nope'), expect: status(404) },
  { name: 'POST on a path that allows GET and HEAD: 405 with Allow', request: `POST / HTTP/1.1\r\n${HOST}${CLOSE}Content-Length: 0\r\n\r\n`, expect: status(405, { Allow: 'GET, HEAD' }) },
  { name: 'DELETE /hello: 405 with Allow', request: `DELETE /hello HTTP/1.1\r\n${HOST}${CLOSE}\r\n`, expect: status(405, { Allow: 'GET, HEAD' }) },
  { name: 'a method nobody defined, BREW: 501', request: `BREW / HTTP/1.1\r\n${HOST}${CLOSE}\r\n`, expect: status(501) },
  { name: 'a lower-case method (methods are case-sensitive, RFC 9110 §9.1): 501', request: `get / HTTP/1.1\r\n${HOST}${CLOSE}\r\n`, expect: status(501) },
  { name: 'CONNECT, which asks a proxy for a tunnel: 501', request: `CONNECT {host} HTTP/1.1\r\n${HOST}${CLOSE}\r\n`, expect: status(501) },
  { name: 'HTTP/2.0: 505', request: `GET / HTTP/2.0\r\n${HOST}${CLOSE}\r\n`, expect: status(505) },
  { name: 'HTTP/0.9: 505', request: `GET / HTTP/0.9\r\n${HOST}${CLOSE}\r\n`, expect: status(505) },
  {
    name: 'an absolute-form target, taken as sent: /a/../hello is not /hello: 404',
    request: get('http://{host}/a/../hello'),
    expect: status(404),
  },
];

export const rejected: Case[] = [
  ['two spaces after the method', 'GET  / HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['two spaces before the version', 'GET /  HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['a tab instead of a space', 'GET\t/ HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['a space before the method', ' GET / HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['no version', 'GET /\r\nHost: {host}\r\n\r\n'],
  ['a lower-case version', 'GET / http/1.1\r\nHost: {host}\r\n\r\n'],
  ['a version with two digits', 'GET / HTTP/1.10\r\nHost: {host}\r\n\r\n'],
  ['a version without its dot', 'GET / HTTP/11\r\nHost: {host}\r\n\r\n'],
  ['a method with a character that is not a token', 'GE(T / HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['a target without a leading slash', 'GET hello HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['a NUL byte in the target', 'GET /\x00 HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['a raw byte above 0x7e in the target', 'GET /caf\xe9 HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['a field line without a colon', 'GET / HTTP/1.1\r\nHost: {host}\r\nNoColonHere\r\n\r\n'],
  ['whitespace between the field name and the colon (RFC 9112 §5.1)', 'GET / HTTP/1.1\r\nHost: {host}\r\nContent-Length : 0\r\n\r\n'],
  ['an empty field name', 'GET / HTTP/1.1\r\nHost: {host}\r\n: value\r\n\r\n'],
  ['obs-fold: a line that continues the previous value (RFC 9112 §5.2)', 'GET / HTTP/1.1\r\nHost: {host}\r\nX-Folded: a\r\n b\r\n\r\n'],
  ['whitespace before the first field line (RFC 9112 §2.2)', 'GET / HTTP/1.1\r\n Host: {host}\r\n\r\n'],
  ['a bare LF ending a field line', 'GET / HTTP/1.1\r\nHost: {host}\nX-A: b\r\n\r\n'],
  ['a bare LF ending the request line', 'GET / HTTP/1.1\nHost: {host}\r\n\r\n'],
  ['a bare CR inside a field value', 'GET / HTTP/1.1\r\nHost: {host}\r\nX-A: b\rc\r\n\r\n'],
  ['a NUL byte in a field value', 'GET / HTTP/1.1\r\nHost: {host}\r\nX-A: b\x00c\r\n\r\n'],
  ['HTTP/1.1 without Host (RFC 9112 §3.2)', 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n'],
  ['two Host fields (RFC 9112 §3.2)', 'GET / HTTP/1.1\r\nHost: {host}\r\nHost: example.com\r\n\r\n'],
  ['a Host value with a space in it (RFC 9112 §3.2)', 'GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n'],
  ['an absolute-form target with a broken authority', 'GET http://[ HTTP/1.1\r\nHost: {host}\r\n\r\n'],
  ['the asterisk target with GET (only OPTIONS may use it, RFC 9112 §3.2.4)', 'GET * HTTP/1.1\r\nHost: {host}\r\n\r\n'],
].map(([name, request]) => ({ name: name!, request: request!, expect: status(400) }));

export const fill = (request: string, port: number): Buffer =>
  Buffer.from(request.replaceAll('{host}', `127.0.0.1:${port}`), 'latin1');


export const heads: Case[] = [
  { name: 'HEAD /', request: `HEAD / HTTP/1.1\r\n${HOST}${CLOSE}\r\n`, expect: { ...hello, body: undefined, noBody: true } },
  { name: 'HEAD /hello', request: `HEAD /hello HTTP/1.1\r\n${HOST}${CLOSE}\r\n`, expect: { ...helloServer, body: undefined, noBody: true } },
  { name: 'HEAD /nope', request: `HEAD /nope HTTP/1.1\r\n${HOST}${CLOSE}\r\n`, expect: { status: 404, noBody: true } },
  { name: 'HEAD in HTTP/2.0, whose 505 has no body either', request: `HEAD / HTTP/2.0\r\n${HOST}${CLOSE}\r\n`, expect: { status: 505, noBody: true } },
  { name: 'HEAD without Host, whose 400 has no body either', request: `HEAD / HTTP/1.1\r\n${CLOSE}\r\n`, expect: { status: 400, noBody: true } },
];
