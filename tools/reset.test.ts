// `npm run reset -- N` in a temporary copy of the course under git: it restores only the
// chapter named, asks first, and leaves the learner's added files alone.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTs } from './spawn.ts';
import { copyRepository } from './temp-repo.ts';

describe.concurrent('npm run reset', { timeout: 60_000 }, () => {
  const copies: { remove(): void }[] = [];
  afterAll(() => copies.forEach((copy) => copy.remove()));

  /** A copy of chapters 01 and 02 where the learner has written in both and added a file to 01. */
  function workedOn() {
    const copy = copyRepository(['01-hello-socket', '02-crlf-framing'], { git: true });
    copies.push(copy);
    const file = (relative: string) => path.join(copy.root, relative);
    writeFileSync(file('chapters/01-hello-socket/server.ts'), '// my own server\n');
    writeFileSync(file('chapters/01-hello-socket/notes.txt'), 'my notes\n');
    writeFileSync(file('chapters/02-crlf-framing/protocol.ts'), '// my own protocol\n');
    const reset = (args: string[], input?: string) => runTs('tools/course.ts', ['reset', ...args], {}, input, { root: copy.root }).finished;
    const read = (relative: string) => (existsSync(file(relative)) ? readFileSync(file(relative), 'utf8') : undefined);
    return { reset, read };
  }

  it('restores the chapter with --yes, says what it restored, and touches nothing else', async () => {
    const { reset, read } = workedOn();
    const { code, stdout } = await reset(['1', '--yes']);
    expect({
      code,
      said: stdout.includes('Restored server.ts in chapters/01-hello-socket/'),
      starter: read('chapters/01-hello-socket/server.ts')?.includes('TODO(ch01)'),
      notes: read('chapters/01-hello-socket/notes.txt'),
      listedNotes: /left as they are:\n {2}notes\.txt/.test(stdout),
      otherChapter: read('chapters/02-crlf-framing/protocol.ts'),
    }).toEqual({ code: 0, said: true, starter: true, notes: 'my notes\n', listedNotes: true, otherChapter: '// my own protocol\n' });
  });

  it('asks first, and changes nothing unless the answer is yes', async () => {
    const { reset, read } = workedOn();
    const declined = await reset(['01-hello-socket'], 'n\n');
    const unchanged = read('chapters/01-hello-socket/server.ts');
    const accepted = await reset(['01-hello-socket'], 'y\n');
    expect({
      declined: declined.code,
      asked: declined.stdout.includes('Restore this file? [y/N]'),
      nothing: declined.stdout.includes('Nothing was changed.'),
      unchanged,
      accepted: accepted.code,
      restored: read('chapters/01-hello-socket/server.ts')?.includes('TODO(ch01)'),
    }).toEqual({ declined: 1, asked: true, nothing: true, unchanged: '// my own server\n', accepted: 0, restored: true });
  });

  it('says so when there is nothing to restore, and names a wrong commit or chapter', async () => {
    const { reset } = workedOn();
    const clean = await reset(['2', '--yes']);
    const again = await reset(['2', '--yes']);
    const commit = await reset(['2', '--from', 'no-such-commit']);
    const chapter = await reset(['nine']);
    expect({
      clean: clean.code,
      again: again.stdout.includes('is already the starter'),
      commit: [commit.code, commit.stderr.includes('There is no commit "no-such-commit"')],
      chapter: [chapter.code, chapter.stderr.includes('01-hello-socket')],
    }).toEqual({ clean: 0, again: true, commit: [2, true], chapter: [2, true] });
  });
});
