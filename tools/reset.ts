// `npm run reset -- N`: puts a chapter's starter back, from git, after the learner says yes.
// Only the files of that chapter's folder that git knows are written; files the learner
// added there are listed and left alone, and no other chapter is touched.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { filesUnder, type Chapter } from './chapters.ts';
import { pad } from './report.ts';

export class ResetError extends Error {}

export interface ResetPlan {
  chapter: Chapter;
  /** The commit the starter comes from, as the learner named it and as a short hash. */
  ref: string;
  commit: string;
  /** Files that differ from the starter, or are missing, relative to the chapter's folder. */
  restore: { file: string; missing: boolean; content: Buffer }[];
  /** Files in the folder that the starter does not have: left as they are. */
  extra: string[];
  /** The starter at `ref` has no TODO left for this chapter: perhaps the learner's own commit. */
  noTodo: boolean;
}

function git(root: string, args: string[]): Buffer {
  const result = spawnSync('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new ResetError(`reset restores the starter from git, and git could not be run: ${result.error.message}`);
  if (result.status !== 0) throw new ResetError(`git ${args.join(' ')} failed: ${result.stderr.toString().trim()}`);
  return result.stdout;
}

/** What resetting `chapter` to its starter at `ref` would write. Writes nothing. */
export function planReset(root: string, chapter: Chapter, ref = 'HEAD'): ResetPlan {
  let commit: string;
  try {
    commit = git(root, ['rev-parse', '--short', '--verify', '--quiet', `${ref}^{commit}`]).toString().trim();
  } catch (error) {
    throw new ResetError(`There is no commit "${ref}" in this repository (git log --oneline lists them).\n${(error as Error).message}`);
  }
  const listed = git(root, ['ls-tree', '-r', '-z', '--name-only', commit, '--', `${chapter.chapterDir}/`])
    .toString()
    .split('\0')
    .filter(Boolean);
  if (listed.length === 0) throw new ResetError(`${chapter.chapterDir} is not in commit ${commit} (${ref}): there is no starter there to restore.`);
  const folder = path.join(root, chapter.chapterDir);
  const restore: ResetPlan['restore'] = [];
  let todo = false;
  const known = new Set<string>();
  for (const gitPath of listed) {
    const file = gitPath.slice(chapter.chapterDir.length + 1);
    known.add(file);
    const content = git(root, ['cat-file', 'blob', `${commit}:${gitPath}`]);
    if (content.includes(`TODO(ch${pad(chapter.number)})`)) todo = true;
    const onDisk = path.join(folder, file);
    if (!existsSync(onDisk)) restore.push({ file, missing: true, content });
    else if (!readFileSync(onDisk).equals(content)) restore.push({ file, missing: false, content });
  }
  const extra = filesUnder(folder)
    .map((file) => path.relative(folder, file).split(path.sep).join('/'))
    .filter((file) => !known.has(file))
    .sort();
  return { chapter, ref, commit, restore, extra, noTodo: !todo };
}

/** Writes the starter's files, and only those. */
export function applyReset(root: string, plan: ResetPlan): void {
  for (const { file, content } of plan.restore) {
    const target = path.join(root, plan.chapter.chapterDir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/** What the plan will do, for the question before it is done. */
export function describePlan(plan: ResetPlan): string {
  const out: string[] = [];
  if (plan.restore.length === 0) {
    out.push(`${plan.chapter.chapterDir} is already the starter of commit ${plan.commit} (${plan.ref}): nothing to restore.`);
  } else {
    out.push(`These files in ${plan.chapter.chapterDir}/ go back to the starter of commit ${plan.commit} (${plan.ref}):`);
    for (const { file, missing } of plan.restore) out.push(`  ${file}${missing ? '   (missing now)' : '   (your changes are lost)'}`);
  }
  if (plan.extra.length > 0) out.push('', 'Files you added there are left as they are:', ...plan.extra.map((file) => `  ${file}`));
  if (plan.noTodo) {
    out.push(
      '',
      `Note: the files at ${plan.ref} have no TODO(ch${pad(plan.chapter.number)}) left. If you committed your own work,`,
      'name the commit the course came with: npm run reset -- N --from <commit>.',
    );
  }
  return out.join('\n');
}
