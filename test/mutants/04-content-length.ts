import type { Mutant } from './mutant.ts';

export const mutants: Mutant[] = [
  {
    name: 'the client counts Content-Length in characters, not bytes',
    file: 'protocol.ts',
    find: 'if (body) head += `Content-Length: ${body.length}\\r\\n`;',
    replace: 'if (body) head += `Content-Length: ${String(options.body).length}\\r\\n`;',
    caughtBy: ['counts its bytes, not its characters'],
  },
  {
    name: 'the body is everything received after the head, next request and all',
    file: 'protocol.ts',
    find: 'return { body: Buffer.concat(this.pieces, this.length), rest: chunk.subarray(take) };',
    replace: 'return { body: Buffer.concat([...this.pieces, chunk.subarray(take)]), rest: Buffer.alloc(0) };',
    caughtBy: ['and not the next request behind it'],
  },
  {
    name: 'Content-Length is read with parseInt, which accepts +5, 0x5 and 5.0',
    file: 'protocol.ts',
    find: 'if (!DIGITS.test(value)) throw new HttpError(400, `Content-Length must be digits only, not "${value}"`);',
    replace: 'if (Number.isNaN(parseInt(value, 10))) throw new HttpError(400, `Content-Length must be digits only, not "${value}"`);',
    caughtBy: ['for a plus sign', 'for hexadecimal', 'for a decimal point', 'for a space inside', 'for a list of two values'],
  },
  {
    name: 'the first of two Content-Length fields is believed',
    file: 'protocol.ts',
    find: 'if (values.length > 1) throw new HttpError(400, `${values.length} Content-Length fields; send exactly one`);',
    replace: '',
    caughtBy: ['two fields with different values'],
  },
  {
    name: 'a huge length is not refused: the server waits for a body it will not take',
    file: 'protocol.ts',
    find: 'if (length > MAX_BODY_BYTES) {',
    replace: 'if (length > MAX_BODY_BYTES * 4) {',
    caughtBy: ['answers 413 to a Content-Length over 1 MiB'],
  },
  {
    name: 'no 100 Continue: a client that expects one waits',
    file: 'server.ts',
    find: 'if (expectsContinue(request) && body.length > 0 && parts.rest.length === 0) sendContinue();',
    replace: '',
    caughtBy: ['answers Expect: 100-continue with 100 Continue'],
  },
  {
    name: 'a 204 carries Content-Length: 0',
    file: 'protocol.ts',
    find: 'if (!bodiless) head += `Content-Length: ${body.length}\\r\\n`;',
    replace: 'head += `Content-Length: ${body.length}\\r\\n`;',
    caughtBy: ['sends no Content-Length with a 204'],
  },
  {
    name: 'the client reads every body until the close',
    file: 'protocol.ts',
    find: "  if (values.length === 0) return 'until-close';",
    replace: "  return 'until-close';",
    caughtBy: ['reads the body by Content-Length without waiting', 'does not take bytes past Content-Length'],
  },
  {
    name: 'the client believes Content-Length on a response to HEAD',
    file: 'protocol.ts',
    find: "if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) return 0;",
    replace: 'if (status >= 100 && status < 200) return 0;',
    caughtBy: ['takes a response to HEAD to have no body', 'takes a 204 to have no body'],
  },
  {
    name: 'the client returns a cut-off body as if it were complete',
    file: 'client.ts',
    find: '        const reader = body as BodyReader;\n',
    replace: '        const reader = body as BodyReader;\n        if (reader) return finish(Buffer.alloc(0));\n',
    caughtBy: ['reports a response cut off before its Content-Length'],
  },
];
