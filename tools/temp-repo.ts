// A temporary copy of the course for the tests that change files (the dashboard's watch
// loop, reset): only the chapters asked for, the tooling, the harness, and a link to
// node_modules, so a test can save a file without touching the learner's own.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, listChapters } from './chapters.ts';

export interface TempRepo {
  root: string;
  remove(): void;
}

export function copyRepository(chapterIds: string[], options: { git?: boolean } = {}): TempRepo {
  const root = mkdtempSync(path.join(os.tmpdir(), 'course-copy-'));
  const copy = (relative: string): void => cpSync(path.join(ROOT, relative), path.join(root, relative), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json', 'vitest.config.ts', 'tools', 'test/harness', 'test/cases']) copy(file);
  for (const chapter of listChapters().filter((entry) => chapterIds.includes(entry.id))) {
    copy(chapter.chapterDir);
    copy(chapter.solutionDir);
    copy(chapter.testFile);
  }
  // A junction needs no rights on Windows; elsewhere the type is ignored.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'junction');
  if (options.git) {
    const git = (...args: string[]) => spawnSync('git', args, { cwd: root, stdio: 'ignore' });
    git('init', '-q');
    git('add', 'chapters', 'solutions');
    git('-c', 'user.name=course', '-c', 'user.email=course@example.invalid', 'commit', '-q', '-m', 'the course');
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
