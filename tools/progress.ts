// Where a learner stands: which chapters pass, and the current one (the first whose code in
// chapters/ does not pass its tests). A chapter that passed is remembered with a fingerprint
// of everything its grade depends on, so `npm start` need not grade it again until its code,
// its tests or the harness change.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, filesUnder, type Chapter } from './chapters.ts';
import type { RunResults } from './results-reporter.ts';
import { readState, writeState } from './state.ts';

export type ChapterStatus = 'passed' | 'failed' | 'ungraded';

export interface ChapterProgress {
  chapter: Chapter;
  status: ChapterStatus;
  passed: number;
  total: number;
}

interface Remembered {
  fingerprint: string;
  passed: number;
  total: number;
  ok: boolean;
}

const STATE = 'progress.json';

/** A hash of the chapter's code, its test file and the harness: what its grade depends on. */
export function fingerprint(chapter: Chapter, root = ROOT): string {
  const files = [
    ...filesUnder(path.join(root, chapter.chapterDir)),
    path.join(root, chapter.testFile),
    ...filesUnder(path.join(root, 'test', 'harness')),
  ];
  const hash = createHash('sha256');
  for (const file of files.map((file) => path.relative(root, file).split(path.sep).join('/')).sort()) {
    hash.update(`${file}\0`);
    hash.update(existsSync(path.join(root, file)) ? readFileSync(path.join(root, file)) : '');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Whether a run passed: every test that ran passed, something ran, and nothing escaped. */
export function runPassed(results: RunResults & { timedOut?: number }): boolean {
  return results.tests.length > 0 && results.tests.every((test) => test.state !== 'failed') && results.unhandled.length === 0 && !results.timedOut;
}

export function progressOf(chapter: Chapter, results: RunResults & { timedOut?: number }): ChapterProgress {
  const ran = results.tests.filter((test) => test.state !== 'skipped');
  return {
    chapter,
    status: runPassed(results) ? 'passed' : 'failed',
    passed: ran.filter((test) => test.state === 'passed').length,
    total: ran.length,
  };
}

export class Progress {
  private remembered: Record<string, Remembered>;

  constructor(readonly root = ROOT) {
    this.remembered = readState<Record<string, Remembered>>(STATE, root) as Record<string, Remembered>;
  }

  /**
   * What was last seen of this chapter, if its code, tests and harness have not changed
   * since: the grade of `print`, its fingerprint now.
   */
  recall(chapter: Chapter, print = fingerprint(chapter, this.root)): ChapterProgress | undefined {
    const seen = this.remembered[chapter.id];
    if (!seen || seen.fingerprint !== print) return undefined;
    return { chapter, status: seen.ok ? 'passed' : 'failed', passed: seen.passed, total: seen.total };
  }

  /** Remembers a grade, made of the chapter's code as it was when the grading started. */
  remember(progress: ChapterProgress, print: string): void {
    this.remembered[progress.chapter.id] = { fingerprint: print, passed: progress.passed, total: progress.total, ok: progress.status === 'passed' };
    writeState(STATE, this.remembered, this.root);
  }
}

/**
 * Every chapter's status, grading in order until one fails: that is the current chapter.
 * Chapters remembered as passing with the same fingerprint are not graded again.
 */
export async function survey<Results extends RunResults & { timedOut?: number }>(
  chapters: Chapter[],
  grade: (chapter: Chapter) => Promise<Results>,
  progress: Progress,
  onGrading: (chapter: Chapter) => void = () => {},
): Promise<{ rows: ChapterProgress[]; current?: Chapter; results?: Results }> {
  const rows: ChapterProgress[] = [];
  let current: Chapter | undefined;
  let results: Results | undefined;
  for (const chapter of chapters) {
    const print = fingerprint(chapter, progress.root);
    const recalled = progress.recall(chapter, print);
    if (current) {
      rows.push(recalled ?? { chapter, status: 'ungraded', passed: 0, total: 0 });
      continue;
    }
    if (recalled?.status === 'passed') {
      rows.push(recalled);
      continue;
    }
    onGrading(chapter);
    const graded = await grade(chapter);
    const row = progressOf(chapter, graded);
    progress.remember(row, print);
    rows.push(row);
    if (row.status !== 'passed') {
      current = chapter;
      results = graded;
    }
  }
  return { rows, current, results };
}
