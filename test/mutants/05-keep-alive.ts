import type { Mutant } from './mutant.ts';

export const mutants: Mutant[] = [
  {
    name: 'Connection: close from the client is ignored',
    file: 'protocol.ts',
    find: "  if (options.has('close')) return false;\n",
    replace: '',
    caughtBy: ['answers a request that says Connection: close', 'only the last says Connection: close'],
  },
  {
    name: 'HTTP/1.0 connections are kept without being asked',
    file: 'protocol.ts',
    find: "  return request.version === 'HTTP/1.1' || options.has('keep-alive');",
    replace: '  return true;',
    caughtBy: ['keeps an HTTP/1.0 connection only when asked'],
  },
  {
    name: 'the bytes after a request are dropped, and with them every pipelined request',
    file: 'server.ts',
    find: '        pending = parts.rest;\n        if (pending.length === 0)',
    replace: '        pending = Buffer.alloc(0);\n        if (pending.length === 0)',
    caughtBy: ['answers ten pipelined requests', 'at every byte boundary'],
  },
  {
    name: 'the last response does not say Connection: close',
    file: 'server.ts',
    find: "connection: !keep ? 'close' : request.version === 'HTTP/1.0' ? 'keep-alive' : undefined,",
    replace: "connection: keep && request.version === 'HTTP/1.0' ? 'keep-alive' : undefined,",
    caughtBy: ['only the last says Connection: close'],
  },
  {
    name: 'idle connections are never closed',
    file: 'server.ts',
    find: '  socket.setTimeout(idleTimeoutMs, () => (closing ? socket.destroy() : close()));',
    replace: '',
    caughtBy: ['closes a connection that stays idle'],
  },
  {
    name: 'an error response leaves the connection open',
    file: 'server.ts',
    find: '      responses.push(failure(error, onError, head !== undefined && asksForHead(head)));\n      return { responses, close: true };',
    replace: '      responses.push(failure(error, onError, head !== undefined && asksForHead(head)));\n      heads.push(Buffer.alloc(0));\n      return { responses, close: false };',
    caughtBy: ['closes after an error response'],
  },
  {
    name: 'the client opens a connection for every request',
    file: 'client.ts',
    find: '    if (!this.link || this.link.done) {',
    replace: '    if (true) {',
    caughtBy: ['sends several requests over one connection'],
  },
  {
    name: 'the client sends on a connection the server has closed',
    file: 'client.ts',
    find: '    if (!this.link || this.link.done) {',
    replace: '    if (!this.link) {',
    caughtBy: ['opens a new connection when the server has closed an idle one'],
  },
  {
    name: 'the client retries a POST that may already have been done',
    file: 'client.ts',
    find: ' || !IDEMPOTENT.has(method)) throw error;',
    replace: ') throw error;',
    caughtBy: ['closes just as a POST is sent'],
  },
  {
    name: 'the client drops the bytes after an answer, and with them the next answer',
    file: 'client.ts',
    find: '      pending = done.rest;',
    replace: '      pending = Buffer.alloc(0);',
    caughtBy: ['pipelines: sends every request before reading the first answer'],
  },
];
