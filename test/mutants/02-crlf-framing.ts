import type { Mutant } from './mutant.ts';

export const mutants: Mutant[] = [
  {
    name: 'the request line is split on any run of whitespace',
    file: 'protocol.ts',
    find: "const parts = requestLine.split(' ');",
    replace: "const parts = requestLine.trim().split(/\\s+/);",
    caughtBy: ['rejects two spaces after the method', 'rejects a tab instead of a space', 'rejects a space before the method'],
  },
  {
    name: 'field names are looked up case-sensitively',
    file: 'protocol.ts',
    // Stored under the name as sent, but looked up in lower case: only lower-case names are found.
    find: '    const key = name.toLowerCase();\n',
    replace: '    const key = name;\n',
    caughtBy: ['accepts field names in any case', 'looks fields up in any case'],
  },
  {
    name: 'whitespace before the colon is trimmed away instead of rejected',
    file: 'protocol.ts',
    find: 'const name = line.slice(0, colon);',
    replace: 'const name = line.slice(0, colon).trim();',
    caughtBy: ['rejects whitespace between the field name and the colon'],
  },
  {
    name: 'obs-fold lines are skipped instead of rejected',
    file: 'protocol.ts',
    find: 'fail(400, `a field line starts with whitespace (obsolete line folding): "${line}"`);',
    replace: 'continue;',
    caughtBy: ['rejects obs-fold'],
  },
  {
    name: 'Host is not checked',
    file: 'protocol.ts',
    find: "const hosts = headers.getAll('host');",
    replace: 'const hosts = [true];',
    caughtBy: ['rejects HTTP/1.1 without Host', 'rejects two Host fields'],
  },
  {
    name: 'HTTP/2.0 is rejected as malformed (400) instead of unsupported (505)',
    file: 'protocol.ts',
    find: "if (versionMatch[1] !== '1') fail(505,",
    replace: "if (versionMatch[1] !== '1') fail(400,",
    caughtBy: ['answers HTTP/2.0: 505', 'answers HTTP/0.9: 505'],
  },
  {
    name: 'HEAD gets the body too',
    file: 'protocol.ts',
    find: 'return omitBody ? headBytes : Buffer.concat([headBytes, body]);',
    replace: 'return Buffer.concat([headBytes, body]);',
    caughtBy: ['answers HEAD / with the fields GET gets', 'answers HEAD /nope'],
  },
  {
    name: 'an unknown method is answered 405 instead of 501',
    file: 'server.ts',
    find: 'throw new HttpError(501, `the method ${request.method} is not implemented here`);',
    replace: 'throw new HttpError(405, `the method ${request.method} is not allowed`);',
    caughtBy: ['answers a method nobody defined, BREW: 501'],
  },
  {
    name: 'a 405 without Allow',
    file: 'server.ts',
    find: ", [['Allow', allow]]);",
    replace: ');',
    caughtBy: ['405 with Allow'],
  },
  {
    name: 'the client requires a reason phrase',
    file: 'protocol.ts',
    find: '(\\d{3})(?: ([\\t\\x20-\\x7e\\x80-\\xff]*))?$/;',
    replace: '(\\d{3}) ([\\t\\x20-\\x7e\\x80-\\xff]*)$/;',
    caughtBy: ['reads the status line "HTTP/1.1 204" as 204'],
  },
  {
    name: 'the client sends its extra fields after Connection: close',
    file: 'protocol.ts',
    find: "return Buffer.from(`${head}Connection: close\\r\\n\\r\\n`, 'latin1');",
    replace: "return Buffer.from(`${head.replace(/^([^\\n]*\\n[^\\n]*\\n)/, '$1Connection: close\\r\\n')}\\r\\n`, 'latin1');",
    caughtBy: ['sends the method, the target, Host, the extra fields in order'],
  },
];
