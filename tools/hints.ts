// `npm run hint -- N`: a chapter's hints, one at a time. The hints live in the lesson, as
// folded `<details><summary>Hint N: title</summary> ... </details>` blocks, so they are
// written once and read either way. How many a learner has seen is kept in .course/, which
// git ignores: a reset of the chapter does not hide them again.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, type Chapter } from './chapters.ts';
import { pad } from './report.ts';
import { readState, writeState } from './state.ts';

export interface Hint {
  title: string;
  /** The Markdown inside the block, without the summary line. */
  body: string;
}

const BLOCK = /<details>\s*<summary>\s*Hint\s+\d+:\s*([^<]*?)\s*<\/summary>([\s\S]*?)<\/details>/g;

/** The hints of a lesson, in order. */
export function readHints(lesson: string): Hint[] {
  return [...lesson.matchAll(BLOCK)].map((match) => ({ title: match[1]!, body: match[2]!.trim() }));
}

/**
 * The text to print for `npm run hint`: the next hint not seen yet (the first call shows
 * the first), every hint with `all`, or the first again with `again`.
 */
export function hintText(chapter: Chapter, options: { all?: boolean; again?: boolean; /** How to see the next one. */ more?: string } = {}, root = ROOT): string {
  const hints = readHints(readFileSync(path.join(root, chapter.chapterDir, 'README.md'), 'utf8'));
  const name = `Chapter ${pad(chapter.number)}: ${chapter.title}`;
  if (hints.length === 0) return `${name} has no hints. npm run diff -- ${chapter.number} shows the reference solution.`;
  const show = (i: number): string => `Hint ${i + 1} of ${hints.length}: ${hints[i]!.title}\n\n${hints[i]!.body}\n`;
  if (options.all) return [`${name}: every hint.`, '', ...hints.map((_, i) => show(i))].join('\n');
  const seen = readState<Record<string, number>>('hints.json', root);
  const shown = options.again ? 0 : (seen[chapter.id] ?? 0);
  const next = Math.min(shown, hints.length - 1);
  seen[chapter.id] = Math.max(next + 1, seen[chapter.id] ?? 0);
  writeState('hints.json', seen, root);
  const after =
    next + 1 < hints.length
      ? `${options.more ?? `Run npm run hint -- ${chapter.number} again`} for hint ${next + 2}; npm run hint -- ${chapter.number} --all shows every one.`
      : `That is the last hint. npm run diff -- ${chapter.number} shows how the reference does it.`;
  return `${name}\n\n${show(next)}\n${after}`;
}
