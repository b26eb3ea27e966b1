// The course's chapters, found on disk: a chapter is a folder `chapters/NN-name/` with its
// reference in `solutions/NN-name/` and its tests in `test/NN-name.test.ts`.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Chapter {
  number: number;
  /** The folder name, e.g. `01-hello-socket`. */
  id: string;
  /** The lesson's title, e.g. `Hello, socket`. */
  title: string;
  /** Paths relative to the repository root, with forward slashes. */
  chapterDir: string;
  solutionDir: string;
  testFile: string;
}

const CHAPTER_FOLDER = /^(\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function listChapters(root = ROOT): Chapter[] {
  const folder = path.join(root, 'chapters');
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && CHAPTER_FOLDER.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((id) => ({
      number: Number(id.slice(0, 2)),
      id,
      title: lessonTitle(path.join(folder, id, 'README.md')) ?? id.slice(3).replace(/-/g, ' '),
      chapterDir: `chapters/${id}`,
      solutionDir: `solutions/${id}`,
      testFile: `test/${id}.test.ts`,
    }));
}

/** The lesson's first heading, without a leading "Chapter NN:". */
function lessonTitle(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const heading = /^# (.+)$/m.exec(readFileSync(file, 'utf8'));
  return heading?.[1]?.replace(/^Chapter \d+:\s*/i, '').trim();
}

/** Every file under `folder`, at any depth, as full paths; none when it does not exist. */
export function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

export class ChapterNameError extends Error {}

/** Finds a chapter by number (`1`, `01`), folder name (`01-hello-socket`) or name (`hello-socket`). */
export function resolveChapter(name: string | undefined, chapters: Chapter[]): Chapter {
  const wanted = (name ?? '').trim().replace(/^chapters[\\/]/, '').replace(/[\\/]$/, '').toLowerCase();
  const found = chapters.find(
    (chapter) =>
      (/^\d+$/.test(wanted) && Number(wanted) === chapter.number) ||
      chapter.id === wanted ||
      chapter.id.slice(3) === wanted,
  );
  if (found) return found;
  const list = chapters.map((chapter) => `  ${String(chapter.number).padStart(2)}  ${chapter.id.padEnd(22)} ${chapter.title}`);
  throw new ChapterNameError(
    `${name === undefined || name === '' ? 'Which chapter?' : `There is no chapter "${name}".`} Name one by number or folder:\n${list.join('\n')}`,
  );
}
