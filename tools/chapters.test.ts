import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChapterNameError, listChapters, resolveChapter } from './chapters.ts';

function fakeCourse(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'course-chapters-'));
  for (const id of ['01-hello-socket', '02-crlf-framing', '10-extra']) {
    mkdirSync(path.join(root, 'chapters', id), { recursive: true });
  }
  mkdirSync(path.join(root, 'chapters', 'notes'));
  writeFileSync(path.join(root, 'chapters', '01-hello-socket', 'README.md'), '<!-- x -->\n# Chapter 1: Hello, socket\n\ntext\n');
  return root;
}

describe('finding chapters', () => {
  const chapters = listChapters(fakeCourse());

  it('lists NN-name folders in order, with their paths, and ignores other folders', () => {
    expect(chapters.map((chapter) => [chapter.number, chapter.id, chapter.testFile])).toEqual([
      [1, '01-hello-socket', 'test/01-hello-socket.test.ts'],
      [2, '02-crlf-framing', 'test/02-crlf-framing.test.ts'],
      [10, '10-extra', 'test/10-extra.test.ts'],
    ]);
  });

  it("takes the title from the lesson's first heading, or else from the folder name", () => {
    expect(chapters.map((chapter) => chapter.title)).toEqual(['Hello, socket', 'crlf framing', 'extra']);
  });

  it.each(['1', '01', '001', '01-hello-socket', 'hello-socket', 'chapters/01-hello-socket/', ' 1 '])(
    'knows chapter 01 by %j',
    (name) => {
      expect(resolveChapter(name, chapters).id).toBe('01-hello-socket');
    },
  );

  it.each(['3', 'hello', '1x', ''])('lists the valid names when given %j', (name) => {
    expect(() => resolveChapter(name, chapters)).toThrow(ChapterNameError);
    expect(() => resolveChapter(name, chapters)).toThrow(/01-hello-socket[^]*02-crlf-framing[^]*10-extra/);
  });
});
