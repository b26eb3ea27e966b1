// The rules that make the course a course: every chapter has a lesson, a starter and a
// reference with the same files, and a test file; starters mark where the learner writes;
// the HTTP code stands on Node's built-ins alone, inside its own folder.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, listChapters } from './chapters.ts';
import { codeFiles } from './diff-command.ts';

const chapters = listChapters();

function tsFiles(dir: string): string[] {
  return codeFiles(path.join(ROOT, dir)).filter((file) => file.endsWith('.ts'));
}

describe('the course layout', () => {
  it('has chapters, numbered from 01 without gaps', () => {
    expect(chapters.length).toBeGreaterThan(0);
    expect(chapters.map((chapter) => chapter.number)).toEqual(chapters.map((_, i) => i + 1));
  });

  describe.each(chapters.map((chapter) => [chapter.id, chapter] as const))('chapter %s', (_, chapter) => {
    it('has a lesson, a starter server.ts and client.ts, a reference and a test file', () => {
      for (const file of [`${chapter.chapterDir}/README.md`, `${chapter.chapterDir}/server.ts`, `${chapter.chapterDir}/client.ts`, chapter.testFile]) {
        expect(existsSync(path.join(ROOT, file)), `${file} exists`).toBe(true);
      }
    });

    it('has a reference with the same files as the starter, file for file', () => {
      expect(codeFiles(path.join(ROOT, chapter.solutionDir))).toEqual(codeFiles(path.join(ROOT, chapter.chapterDir)));
    });

    it(`marks the learner's work with TODO(ch${chapter.id.slice(0, 2)}) in the starter, and none in the reference`, () => {
      const marker = `TODO(ch${chapter.id.slice(0, 2)})`;
      const starter = tsFiles(chapter.chapterDir).map((file) => readFileSync(path.join(ROOT, chapter.chapterDir, file), 'utf8')).join('\n');
      const reference = tsFiles(chapter.solutionDir).map((file) => readFileSync(path.join(ROOT, chapter.solutionDir, file), 'utf8')).join('\n');
      expect(starter).toContain(marker);
      expect(reference).not.toMatch(/TODO\(ch\d\d\)/);
    });

    it.each([chapter.chapterDir, chapter.solutionDir])('%s imports only node: built-ins and its own files', (dir) => {
      for (const file of tsFiles(dir)) {
        const source = readFileSync(path.join(ROOT, dir, file), 'utf8');
        // import ... from '...' (over several lines too), import '...', and import('...').
        const specifiers = [
          ...source.matchAll(/^\s*import\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm),
          ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
          ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]/g),
        ].map((match) => match[1]!);
        for (const specifier of specifiers) {
          const inside = specifier.startsWith('./') && !path.normalize(path.join(path.dirname(file), specifier)).startsWith('..');
          expect(specifier.startsWith('node:') || inside, `${dir}/${file} imports "${specifier}"`).toBe(true);
          expect(['node:http', 'node:https', 'node:http2'], `${dir}/${file} builds HTTP itself`).not.toContain(specifier);
        }
        expect(source, `${dir}/${file} must not use fetch(): it builds HTTP itself`).not.toMatch(/\bfetch\(/);
      }
    });
  });

  it('has no test file without a chapter', () => {
    const files = codeFiles(path.join(ROOT, 'test')).filter((file) => /^\d\d-.*\.test\.ts$/.test(file));
    expect(files).toEqual(chapters.map((chapter) => `${chapter.id}.test.ts`));
  });
});
