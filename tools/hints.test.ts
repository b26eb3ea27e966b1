import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, listChapters } from './chapters.ts';
import { readHints } from './hints.ts';
import { runTs } from './spawn.ts';

describe('hints', () => {
  it('reads the folded Hint blocks of a lesson, in order, without their summary lines', () => {
    const lesson = 'Text\n\n<details>\n<summary>Hint 1: first</summary>\n\nOne.\n\n</details>\n\n<details>\n<summary>Hint 2: second</summary>\n\nTwo `code`.\n</details>\n';
    expect(readHints(lesson)).toEqual([
      { title: 'first', body: 'One.' },
      { title: 'second', body: 'Two `code`.' },
    ]);
  });

  it.each(listChapters().map((chapter) => [chapter.id, chapter] as const))('finds hints in the lesson of %s', (_, chapter) => {
    const hints = readHints(readFileSync(path.join(ROOT, chapter.chapterDir, 'README.md'), 'utf8'));
    expect(hints.length, `${chapter.chapterDir}/README.md should hold folded "Hint N: ..." blocks`).toBeGreaterThan(0);
    expect(hints.every((hint) => hint.title.length > 0 && hint.body.length > 0)).toBe(true);
  });

  describe.concurrent('npm run hint', { timeout: 60_000 }, () => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'course-hints-'));
    afterAll(() => rmSync(state, { recursive: true, force: true }));
    const hint = (...args: string[]) => runTs('tools/course.ts', ['hint', ...args], { COURSE_STATE_DIR: state }).finished;

    it('shows the first hint, then the next one on each call, and says when it was the last', async () => {
      const first = await hint('1');
      const second = await hint('1');
      const all = readHints(readFileSync(path.join(ROOT, 'chapters/01-hello-socket/README.md'), 'utf8'));
      expect({ code: first.code, first: first.stdout.includes(`Hint 1 of ${all.length}: ${all[0]!.title}`), second: second.stdout.includes(`Hint 2 of ${all.length}: ${all[1]!.title}`) }).toEqual({
        code: 0,
        first: true,
        second: true,
      });
      let last = second;
      for (let i = 2; i < all.length + 1; i++) last = await hint('1');
      expect(last.stdout).toContain('That is the last hint');
      const again = await hint('1', '--again');
      expect(again.stdout).toContain(`Hint 1 of ${all.length}`);
    });

    it('shows every hint with --all, and lists the chapters for a wrong name', async () => {
      const all = await hint('02-crlf-framing', '--all');
      const wrong = await hint('nine');
      expect({ all: all.code, every: (all.stdout.match(/^Hint \d+ of \d+:/gm) ?? []).length > 1, wrong: wrong.code, list: wrong.stderr.includes('01-hello-socket') }).toEqual({
        all: 0,
        every: true,
        wrong: 2,
        list: true,
      });
    });
  });
});
