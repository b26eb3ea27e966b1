import type { Mutant } from './mutant.ts';

export const mutants: Mutant[] = [
  {
    name: 'one read is taken to be the whole request (chapter 02 behaviour)',
    file: 'server.ts',
    find: "  socket.on('data', (chunk: Buffer) => {\n    // After our answer",
    replace: "  socket.once('data', (chunk: Buffer) => {\n    // After our answer",
    caughtBy: ['answers GET / the same when it arrives one byte at a time', 'finds the empty line when it is split across reads'],
  },
  {
    name: 'the search resumes where it stopped, missing a CRLFCRLF split across reads',
    file: 'protocol.ts',
    find: 'this.searched = Math.max(this.start, this.length - 3);',
    replace: 'this.searched = this.length;',
    caughtBy: ['answers GET / the same when it arrives one byte at a time', 'finds the empty line when it is split across reads as \\r\\n\\r | \\n'],
  },
  {
    name: 'the 431 to a HEAD that is too large carries a body',
    file: 'server.ts',
    find: 'return failure(error, onError, asksForHead(reader.peek(5)));',
    replace: 'return failure(error, onError);',
    caughtBy: ['answers 431 without a body when the head over 16 KiB asks for HEAD'],
  },
  {
    name: 'no limit on the head',
    file: 'protocol.ts',
    find: 'if (this.length >= this.limit) {',
    replace: 'if (false) {',
    caughtBy: ['answers 431 to a head that never ends'],
  },
  {
    name: 'the limit is off by one: a head of exactly 16 KiB is refused',
    file: 'protocol.ts',
    find: 'if (end < 0 || end + 4 > this.limit) {',
    replace: 'if (end < 0 || end + 4 >= this.limit) {',
    caughtBy: ['answers a head of exactly 16 KiB'],
  },
  {
    name: 'one reader shared by every connection',
    file: 'server.ts',
    find: '  const reader = new HeadReader();\n  let answered = false;',
    replace: '  const reader: HeadReader = ((globalThis as Record<string, unknown>).sharedReader ??= new HeadReader()) as HeadReader;\n  let answered = false;',
    caughtBy: ['keeps one buffer per connection'],
  },
  {
    name: 'the client waits for a close it will never get when the head is too long',
    file: 'client.ts',
    find: '        fail(tooLong ?',
    replace: '        if (tooLong) return;\n        fail(tooLong ?',
    caughtBy: ['rejects a response head over 16 KiB'],
  },
];
