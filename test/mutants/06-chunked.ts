import type { Mutant } from './mutant.ts';

export const mutants: Mutant[] = [
  {
    name: 'a bare LF ends a chunk-size line',
    file: 'protocol.ts',
    find: "    if (before !== 0x0d) throw new HttpError(400, 'a line of the chunked body ends in a bare LF');",
    replace:
      '    if (before !== 0x0d) {\n      const bare = Buffer.concat([...this.pieces, chunk.subarray(0, lf)]);\n      this.pieces = [];\n      this.length = 0;\n      this.lastByte = -1;\n      return { line: bare, rest: chunk.subarray(lf + 1) };\n    }',
    caughtBy: ['refuses a bare LF after the chunk size'],
  },
  {
    name: 'the CRLF after chunk data is not checked: the rest of the line is skipped, so a size that lies goes unnoticed',
    file: 'protocol.ts',
    find: "          if (pending[0] !== (this.endSeen === 0 ? 0x0d : 0x0a)) {",
    // The lenient version: whatever comes before the next line break is skipped.
    replace:
      "          {\n            const line = this.sizes.push(pending);\n            if (!line) return null;\n            this.state = 'size';\n            pending = line.rest;\n            break;\n          }\n          if (false) {",
    caughtBy: ['refuses chunk data not followed by CRLF'],
  },
  {
    name: 'a chunk size is read leniently: 0x5 passes as 5',
    file: 'protocol.ts',
    find: 'const CHUNK_LINE = /^([0-9A-Fa-f]+)',
    replace: 'const CHUNK_LINE = /^(?:0x)?([0-9A-Fa-f]+)',
    caughtBy: ['refuses a chunk size in hex with 0x'],
  },
  {
    name: 'no limit on a chunked body',
    file: 'protocol.ts',
    find: '          if (this.received + size > this.maxBody) {',
    replace: '          if (false) {',
    caughtBy: ['chunks that add up to more than 1 MiB'],
  },
  {
    name: 'Transfer-Encoding wins over Content-Length instead of the request being refused',
    file: 'protocol.ts',
    find: "  if (headers.has('content-length')) {\n    throw new HttpError(400, 'Content-Length and Transfer-Encoding together: which one frames the body?');\n  }\n  if (request.version",
    replace: '  if (request.version',
    caughtBy: ['refuses Content-Length together with Transfer-Encoding'],
  },
  {
    name: 'codings before chunked are ignored instead of answered 501',
    file: 'protocol.ts',
    find: "  if (codings.length > 1) throw new HttpError(501,",
    replace: "  if (codings.length > 9) throw new HttpError(501,",
    caughtBy: ['refuses a coding the server does not implement'],
  },
  {
    name: 'Transfer-Encoding is accepted from HTTP/1.0',
    file: 'protocol.ts',
    find: "  if (request.version === 'HTTP/1.0') throw new HttpError(400,",
    replace: "  if (request.version === 'HTTP/0.9') throw new HttpError(400,",
    caughtBy: ['refuses Transfer-Encoding in an HTTP/1.0 request'],
  },
  {
    name: 'chunk sizes written in decimal',
    file: 'protocol.ts',
    find: 'Buffer.from(`${data.length.toString(16)}\\r\\n`',
    replace: 'Buffer.from(`${data.length}\\r\\n`',
    caughtBy: ['streams GET /chunked as chunks', 'uploads random data of unknown length'],
  },
  {
    name: 'HTTP/1.0 clients get chunks they cannot read',
    file: 'server.ts',
    find: "        const chunked = request.version === 'HTTP/1.1';",
    replace: '        const chunked = true;',
    caughtBy: ['sends HTTP/1.0 clients the stream unchunked'],
  },
  {
    name: 'the server gathers the whole stream before sending any of it',
    file: 'server.ts',
    find: '  for await (const piece of response.body) {',
    replace: '  const all: Array<Buffer | string> = [];\n  for await (const piece of response.body) all.push(piece);\n  for (const piece of all) {',
    caughtBy: ['sends the first chunk before the last one is made'],
  },
  {
    name: 'the client sends an empty piece as a chunk, which ends the body early',
    file: 'client.ts',
    find: '    if (bytes.length > 0 && !socket.destroyed) socket.write(encodeChunk(bytes));',
    replace: '    if (!socket.destroyed) socket.write(encodeChunk(bytes));',
    caughtBy: ['uploads random data of unknown length'],
  },
];
