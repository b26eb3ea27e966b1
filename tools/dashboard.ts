// `npm start` in a terminal: the learner's loop on one screen. It grades the current chapter
// (the first whose code does not pass), shows the first failure in full, watches chapters/
// and grades again on every save, and answers single keys: h hint, d diff, n/p next or
// previous chapter, r re-run, l chapters, q quit. When the chapter passes it says so, sums
// up what the reference does differently, and moves on.

import { statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Palette } from './ansi.ts';
import { filesUnder, type Chapter } from './chapters.ts';
import { diffFolders, diffSummary, paintPatch } from './diff-command.ts';
import type { GradeResults } from './grade.ts';
import { hintText } from './hints.ts';
import { fingerprint, progressOf, survey, type ChapterProgress, type Progress } from './progress.ts';
import { bar, chapterLines, describeFailure, pad, troubleText } from './report.ts';

export const KEYS = 'h hint · d diff · n/p next/previous chapter · r re-run · l chapters · q quit';

/** How long to wait after a change for the editor's other writes (a save can be several). */
const SETTLE_MS = 50;
/** How often --poll looks at the files: for file systems whose change events are unreliable. */
export const POLL_MS = 500;

export interface Grading {
  grade(chapter: Chapter): Promise<GradeResults>;
  stop(): void;
}

export interface DashboardOptions {
  root: string;
  chapters: Chapter[];
  grader: Grading;
  progress: Progress;
  paint: Palette;
  /** Where frames go; `clear` starts each frame on a clean screen (a terminal). */
  output: { write(text: string): unknown; clear: boolean };
  /** Keys: a terminal in raw mode, or any stream (the tests type into a pipe). */
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  /** Look at the files every POLL_MS instead of waiting for change events. */
  poll?: boolean;
}

interface Panel {
  title: string;
  body: string;
}

/** Files an editor writes beside the one being saved; changes to them are not saves. */
function isEditorNoise(name: string): boolean {
  const base = path.basename(name);
  return base.startsWith('.') || base.endsWith('~') || /\.(swp|swx|tmp)$/.test(base) || base === '4913';
}

/** The first thing to fix in a run: its first failed test, or what went wrong around the tests. */
export function firstProblem(results: GradeResults, paint: Palette): string {
  const failed = results.tests.find((test) => test.state === 'failed');
  if (failed) return describeFailure(failed, paint);
  const trouble = troubleText(results, paint);
  if (trouble) return trouble;
  return paint.red(`✗ No test ran.${results.output.trim() ? `\n\n${results.output.trim()}` : ''}`);
}

export class Dashboard {
  private rows: ChapterProgress[];
  private current?: Chapter;
  private viewing: Chapter;
  private results?: GradeResults;
  private grading?: Chapter;
  /** Until the current chapter is found, no chapter on screen is "not the current one". */
  private surveying = true;
  private gradedMs?: number;
  private again = false;
  private banner?: string;
  private panel?: Panel;
  private watcher?: FSWatcher;
  private poller?: NodeJS.Timeout;
  private settle?: NodeJS.Timeout;
  private closed = false;
  private done!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.done = resolve));

  constructor(private readonly options: DashboardOptions) {
    this.rows = options.chapters.map((chapter) => options.progress.recall(chapter) ?? { chapter, status: 'ungraded', passed: 0, total: 0 });
    this.viewing = options.chapters[0]!;
  }

  /** Runs until the learner quits; resolves then. */
  async run(): Promise<void> {
    this.listen();
    this.watch();
    await this.findCurrent();
    return this.finished;
  }

  quit(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.poller);
    clearTimeout(this.settle);
    this.options.grader.stop();
    const { input } = this.options;
    if (input.isTTY && input.setRawMode) input.setRawMode(false);
    input.pause();
    this.options.output.write('\n');
    this.done();
  }

  // ---- grading ----

  /** Grades chapters in order, from the remembered ones, until one fails: the current one. */
  private async findCurrent(): Promise<void> {
    const { chapters, progress } = this.options;
    this.surveying = true;
    const found = await survey(chapters, (chapter) => this.gradeShown(chapter), progress, (chapter) => {
      this.viewing = chapter;
      this.render();
    });
    if (this.closed) return;
    this.surveying = false;
    this.rows = found.rows;
    this.current = found.current;
    this.viewing = found.current ?? chapters.at(-1)!;
    this.results = found.results;
    if (!found.current) this.banner = [this.banner, this.paint.green(this.paint.bold('✓ Every chapter passes its tests. Well done.'))].filter(Boolean).join('\n\n');
    this.render();
    this.afterGrading();
  }

  /** A save that came while a grade ran is graded now. */
  private afterGrading(): void {
    if (!this.again || this.closed) return;
    this.again = false;
    void this.regrade(false);
  }

  /** Grades one chapter, with the frame saying so while it runs. */
  private async gradeShown(chapter: Chapter): Promise<GradeResults> {
    this.grading = chapter;
    this.render();
    const started = Date.now();
    const results = await this.options.grader.grade(chapter);
    this.gradedMs = Date.now() - started;
    this.grading = undefined;
    return results;
  }

  /** Grades the chapter on screen again: after a save (unless nothing changed), or on `r`. */
  private async regrade(force: boolean): Promise<void> {
    if (this.closed) return;
    if (this.grading) {
      this.again = true;
      return;
    }
    const chapter = this.viewing;
    const print = fingerprint(chapter, this.options.root);
    // A save that changed nothing (or a change in another chapter) has its grade already.
    if (!force && this.options.progress.recall(chapter, print)) return;
    this.panel = undefined;
    const results = await this.gradeShown(chapter);
    if (this.closed) return;
    const row = progressOf(chapter, results);
    this.options.progress.remember(row, print);
    this.rows = this.rows.map((old) => (old.chapter === chapter ? row : old));
    this.results = results;
    this.banner = undefined;
    if (row.status === 'passed' && chapter === this.current) {
      this.banner = this.celebration(chapter, row);
      await this.findCurrent();
    } else {
      this.render();
      this.afterGrading();
    }
  }

  private celebration(chapter: Chapter, row: ChapterProgress): string {
    const { paint, root, chapters } = this.options;
    const changes = diffSummary(root, chapter.chapterDir, chapter.solutionDir);
    const next = chapters.find((other) => other.number > chapter.number);
    const width = Math.max(0, ...changes.map((change) => change.file.length));
    return [
      paint.green(paint.bold(`✓ Chapter ${pad(chapter.number)}, ${chapter.title}: all ${row.total} tests pass.`)),
      changes.length === 0
        ? '  Your code is the same as the reference solution.'
        : `  What the reference does differently (npm run diff -- ${chapter.number} shows it in full):`,
      ...changes.map((change) => `    ${change.file.padEnd(width)}  ${paint.green(`+${change.added}`)} ${paint.red(`-${change.removed}`)} lines`),
      next ? `  On to chapter ${pad(next.number)}, ${next.title}: read ${next.chapterDir}/README.md` : '',
    ]
      .filter(Boolean)
      .join('\n');
  }

  // ---- files and keys ----

  private changed(): void {
    if (this.closed) return; // an event already on its way when the watcher closed
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.regrade(false), SETTLE_MS);
  }

  private watch(): void {
    const folder = path.join(this.options.root, 'chapters');
    if (!this.options.poll) {
      try {
        this.watcher = watch(folder, { recursive: true }, (_event, name) => {
          if (!name || !isEditorNoise(name.toString())) this.changed();
        });
        return;
      } catch {
        // No recursive watching here: look at the files instead.
      }
    }
    let before = snapshot(folder);
    this.poller = setInterval(() => {
      const now = snapshot(folder);
      if (now !== before) this.changed();
      before = now;
    }, POLL_MS);
  }

  private listen(): void {
    const { input } = this.options;
    if (input.isTTY && input.setRawMode) input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', (data: string) => {
      for (const key of data) this.key(key);
    });
    // Input ended (a pipe closed): the keys are gone, the watching goes on until a signal.
    input.resume();
  }

  private key(key: string): void {
    if (this.closed) return;
    const { chapters } = this.options;
    const at = chapters.indexOf(this.viewing);
    switch (key) {
      case 'q':
      case '\x03': // Ctrl-C, which raw mode delivers as a key
      case '\x04': // Ctrl-D
        return this.quit();
      case 'h':
        this.panel = { title: `Hint for chapter ${pad(this.viewing.number)}`, body: hintText(this.viewing, { more: 'Press h again' }, this.options.root) };
        return this.render();
      case 'd':
        this.panel = { title: `npm run diff -- ${this.viewing.number}`, body: this.diffText() };
        return this.render();
      case 'l':
        this.panel = { title: 'The chapters', body: [...chapterLines(this.rows, this.current, this.paint), '', '  n and p move between them.'].join('\n') };
        return this.render();
      case '\x1b': // Esc: back to the test result
        this.panel = undefined;
        return this.render();
      case 'n':
      case 'p': {
        const next = chapters[at + (key === 'n' ? 1 : -1)];
        if (!next || this.grading) return;
        this.viewing = next;
        this.results = undefined;
        this.banner = undefined;
        return void this.regrade(true);
      }
      case 'r':
        this.banner = undefined;
        return void this.regrade(true);
      default:
    }
  }

  private diffText(): string {
    const { root, paint } = this.options;
    const chapter = this.viewing;
    const result = diffFolders(root, chapter.chapterDir, chapter.solutionDir);
    if (result.patches.length === 0) return `No differences between ${chapter.chapterDir} and ${chapter.solutionDir}.`;
    return [
      paint.dim(`- yours (${chapter.chapterDir}), + the reference (${chapter.solutionDir})`),
      '',
      ...result.patches.map((patch) => paintPatch(patch, paint)),
      paint.dim(`${result.patches.length} of ${result.compared} files differ.`),
    ].join('\n');
  }

  // ---- the screen ----

  private get paint(): Palette {
    return this.options.paint;
  }

  /** The whole frame, as text: tested without a terminal. */
  frame(): string {
    const { paint, chapters } = this.options;
    const chapter = this.viewing;
    const passedChapters = this.rows.filter((row) => row.status === 'passed').length;
    const row = this.rows.find((entry) => entry.chapter === chapter)!;
    const out = [paint.bold('HTTP/1.1 from the socket up'), ''];
    out.push(`  Course       ${bar(passedChapters, chapters.length)} ${passedChapters} of ${chapters.length} chapters pass`);
    const status =
      this.grading === chapter
        ? paint.yellow('grading…')
        : row.status === 'ungraded'
          ? this.surveying
            ? 'finding your chapter…'
            : 'not graded yet'
          : `${row.passed} of ${row.total} tests pass${this.gradedMs !== undefined && this.results ? paint.dim(` (graded in ${(this.gradedMs / 1000).toFixed(1)} s)`) : ''}`;
    const elsewhere = !this.surveying && this.current && chapter !== this.current ? paint.dim(` (you are at chapter ${pad(this.current.number)})`) : '';
    out.push(`  Chapter ${pad(chapter.number)}   ${bar(row.passed, row.total)} ${status}   ${paint.bold(chapter.title)}${elsewhere}`);
    if (this.grading && this.grading !== chapter) out.push(paint.yellow(`  grading chapter ${pad(this.grading.number)}…`));
    out.push('');
    if (this.banner) out.push(this.banner, '');
    const rule = paint.dim('─'.repeat(72));
    if (this.panel) {
      out.push(rule, paint.bold(this.panel.title), '', this.panel.body, '', paint.dim('Esc or r: back to the test result'));
    } else if (this.results && row.status === 'failed') {
      out.push(rule, firstProblem(this.results, paint), '');
      const range = chapter.number === 1 ? 'chapter 01' : `chapters 01 to ${pad(chapter.number)}`;
      out.push(paint.dim(`  npm run check -- ${chapter.number} lists every test of ${range}.`));
    } else if (row.status === 'passed' && !this.banner) {
      out.push(paint.green(`✓ Chapter ${pad(chapter.number)} passes its tests.`));
    }
    out.push(rule);
    out.push(`Lesson: ${chapter.chapterDir}/README.md · your code: ${chapter.chapterDir}/`);
    out.push(paint.dim(`Save a file and it is graded again${this.options.poll ? ` (polling every ${POLL_MS / 1000} s)` : ''}.`));
    out.push(paint.bold(KEYS));
    return out.join('\n');
  }

  private render(): void {
    if (this.closed) return;
    const { output } = this.options;
    output.write(`${output.clear ? '\x1b[2J\x1b[3J\x1b[H' : '\n'}${this.frame()}\n`);
  }
}

/** Every file's path, size and modification time: what --poll compares. */
function snapshot(folder: string): string {
  const parts: string[] = [];
  for (const file of filesUnder(folder)) {
    if (isEditorNoise(file)) continue;
    try {
      const stats = statSync(file);
      parts.push(`${file}:${stats.size}:${stats.mtimeMs}`);
    } catch {
      // removed between the listing and the look
    }
  }
  return parts.sort().join('\n');
}
