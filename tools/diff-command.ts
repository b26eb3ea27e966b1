// `npm run diff -- N`: what the reference does differently from the learner's chapter, as a
// unified diff, file by file. `--from-previous`: what the reference changed since chapter N-1.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch, structuredPatch } from 'diff';
import type { Palette } from './ansi.ts';

/** The files under `dir`, relative to it, with forward slashes; lessons are not code, so left out. */
export function codeFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const next = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(next);
      else if (next !== 'README.md') out.push(next);
    }
  };
  walk('');
  return out.sort();
}

function read(file: string): string {
  return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8').replace(/\r\n/g, '\n') : '';
}

export interface FolderDiff {
  /** Unified diffs, one per file that differs. */
  patches: string[];
  /** How many files were compared. */
  compared: number;
}

/** The code files of either folder, and those whose text differs between them. */
function changedFiles(root: string, oldDir: string, newDir: string) {
  const files = [...new Set([...codeFiles(path.join(root, oldDir)), ...codeFiles(path.join(root, newDir))])].sort();
  const changed = files
    .map((file) => ({ file, before: read(path.join(root, oldDir, file)), after: read(path.join(root, newDir, file)) }))
    .filter(({ before, after }) => before !== after);
  return { files, changed };
}

/** Diffs every code file of `oldDir` against the same file in `newDir` (labels name them). */
export function diffFolders(root: string, oldDir: string, newDir: string): FolderDiff {
  const { files, changed } = changedFiles(root, oldDir, newDir);
  const patches = changed.map(({ file, before, after }) =>
    createTwoFilesPatch(`${oldDir}/${file}`, `${newDir}/${file}`, before, after, undefined, undefined, { context: 3 }),
  );
  return { patches, compared: files.length };
}

export interface FileChange {
  file: string;
  added: number;
  removed: number;
}

/** How many lines of each code file differ between the folders: the short form of the diff. */
export function diffSummary(root: string, oldDir: string, newDir: string): FileChange[] {
  return changedFiles(root, oldDir, newDir).changed.map(({ file, before, after }) => {
    const lines = structuredPatch(file, file, before, after, undefined, undefined, { context: 0 }).hunks.flatMap((hunk) => hunk.lines);
    return { file, added: lines.filter((line) => line.startsWith('+')).length, removed: lines.filter((line) => line.startsWith('-')).length };
  });
}

/** Colours a unified diff: removed lines red, added green, hunk headers cyan. */
export function paintPatch(patch: string, paint: Palette): string {
  return patch
    .split('\n')
    .filter((line) => !/^={10,}$/.test(line) && !line.startsWith('Index: '))
    .map((line) => {
      if (line.startsWith('---') || line.startsWith('+++')) return paint.bold(line);
      if (line.startsWith('@@')) return paint.cyan(line);
      if (line.startsWith('+')) return paint.green(line);
      if (line.startsWith('-')) return paint.red(line);
      if (line.startsWith('\\')) return paint.dim(line);
      return line;
    })
    .join('\n');
}
