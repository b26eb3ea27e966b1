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

/** Diffs every code file of `oldDir` against the same file in `newDir` (labels name them). */
export function diffFolders(root: string, oldDir: string, newDir: string): FolderDiff {
  const files = [...new Set([...codeFiles(path.join(root, oldDir)), ...codeFiles(path.join(root, newDir))])].sort();
  const patches: string[] = [];
  for (const file of files) {
    const before = read(path.join(root, oldDir, file));
    const after = read(path.join(root, newDir, file));
    if (before === after) continue;
    patches.push(createTwoFilesPatch(`${oldDir}/${file}`, `${newDir}/${file}`, before, after, undefined, undefined, { context: 3 }));
  }
  return { patches, compared: files.length };
}

export interface FileChange {
  file: string;
  added: number;
  removed: number;
}

/** How many lines of each code file differ between the folders: the short form of the diff. */
export function diffSummary(root: string, oldDir: string, newDir: string): FileChange[] {
  const files = [...new Set([...codeFiles(path.join(root, oldDir)), ...codeFiles(path.join(root, newDir))])].sort();
  const changes: FileChange[] = [];
  for (const file of files) {
    const before = read(path.join(root, oldDir, file));
    const after = read(path.join(root, newDir, file));
    if (before === after) continue;
    const lines = structuredPatch(file, file, before, after, undefined, undefined, { context: 0 }).hunks.flatMap((hunk) => hunk.lines);
    changes.push({
      file,
      added: lines.filter((line) => line.startsWith('+')).length,
      removed: lines.filter((line) => line.startsWith('-')).length,
    });
  }
  return changes;
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
