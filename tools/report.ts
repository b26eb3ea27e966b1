// How the course commands tell a learner where they stand: the chapter map (`npm start`) and
// the grade of one chapter (`npm run check`). Pure functions over results, so they are tested
// without running anything.

import type { Palette } from './ansi.ts';
import type { Chapter } from './chapters.ts';
import { plainHints } from './failure-hints.ts';
import { runPassed, type ChapterProgress } from './progress.ts';
import type { RunResults, TestResult } from './results-reporter.ts';

/** A test's name without the file names that its describe blocks carry. */
export function shortName(test: TestResult): string {
  return test.name.replace(/ \([^()]*\.ts\)/g, '').replace(/ > /g, ' › ');
}

function tally(tests: TestResult[]): { passed: number; failed: number; skipped: number } {
  return {
    passed: tests.filter((test) => test.state === 'passed').length,
    failed: tests.filter((test) => test.state === 'failed').length,
    skipped: tests.filter((test) => test.state === 'skipped').length,
  };
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((line) => (line ? by + line : line))
    .join('\n');
}

/** Words wrapped to lines of at most `width` characters. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** The plain-language hints for a report, as indented lines under it. */
export function hintLines(report: string, paint: Palette): string[] {
  return plainHints(report).flatMap((hint) => ['', ...wrap(hint, 84).map((line, i) => `  ${i === 0 ? paint.yellow('hint:') : '     '} ${line}`)]);
}

/** A failed test: its name, its report (bytes, caret, expected, how to reproduce) and hints. */
export function describeFailure(test: TestResult, paint: Palette): string {
  const report = test.errors.join('\n\n') || '(no message)';
  const parts = [paint.red(paint.bold(`✗ ${shortName(test)}`)), '', indent(report, '  '), ...hintLines(report, paint)];
  if (test.logs.length > 0) {
    parts.push('', paint.dim('  your code printed while this test ran:'), indent(test.logs.slice(0, 20).join('\n'), '    '));
  }
  return parts.join('\n');
}

export interface CheckReportInput {
  chapter: Chapter;
  /** The chapters whose tests ran, newest first. */
  graded: Chapter[];
  folder: string;
  /** `timedOut`: the run was stopped after that many seconds. */
  results: RunResults & { timedOut?: number };
  verbose: boolean;
  /** What to tell the learner to run to grade this again. */
  command: string;
  next?: Chapter;
}

/**
 * What went wrong outside any single test: errors that escaped the tests, and a run that had
 * to be stopped. Empty when neither happened.
 */
export function troubleText(results: RunResults & { timedOut?: number }, paint: Palette): string {
  const out: string[] = [];
  if (results.unhandled.length > 0) {
    out.push(paint.red(paint.bold('✗ An error escaped the tests (thrown in a callback, so no single test caught it):')), '');
    const counts = new Map<string, number>();
    for (const error of results.unhandled) counts.set(error, (counts.get(error) ?? 0) + 1);
    for (const [error, count] of [...counts].slice(0, 3)) {
      out.push(indent(error, '  '), ...(count > 1 ? [paint.dim(`  (${count} times)`)] : []), ...hintLines(error, paint), '');
    }
  }
  if (results.timedOut) {
    out.push(
      paint.red(paint.bold(`✗ The tests did not finish within ${results.timedOut} s, so they were stopped.`)),
      '',
      '  Something in the code under test never returns. An endless loop (a while or for whose',
      "  condition never turns false) blocks every connection and every timer, the tests' own",
      '  deadlines too. Look for a loop that waits for data: in Node you wait for the next',
      "  'data' event instead.",
    );
  }
  return out.join('\n').trimEnd();
}

/** The report of `npm run check -- N`, and whether everything passed. */
export function checkReport(input: CheckReportInput, paint: Palette): { text: string; ok: boolean } {
  const { results, graded, folder } = input;
  const out: string[] = [];
  const shown: string[] = [];
  const range = graded.length === 1 ? `chapter ${pad(graded[0]!.number)}` : `chapters ${pad(graded[0]!.number)} to ${pad(graded.at(-1)!.number)}`;
  out.push(paint.bold(`Grading ${folder} with the tests of ${range}, newest first.`), '');

  for (const chapter of graded) {
    const tests = results.tests.filter((test) => test.file === chapter.testFile);
    const counts = tally(tests);
    const status = counts.failed > 0 || tests.length === 0 ? paint.red('✗') : paint.green('✓');
    out.push(`${status} ${paint.bold(`Chapter ${pad(chapter.number)}: ${chapter.title}`)}  ${paint.dim(chapter.testFile)}`);
    if (tests.length === 0) out.push(`  ${paint.red('✗ no test finished (see below)')}`);
    for (const test of tests) {
      if (test.state === 'passed') out.push(`  ${paint.green('✓')} ${shortName(test)}`);
      else if (test.state === 'skipped') out.push(`  ${paint.yellow('○')} ${shortName(test)} ${paint.dim(`(skipped${test.note ? `: ${test.note}` : ''})`)}`);
      else out.push(`  ${paint.red('✗')} ${shortName(test)}`);
    }
    out.push('');
    const failures = tests.filter((test) => test.state === 'failed');
    shown.push(...failures.slice(0, input.verbose ? failures.length : 1).map((test) => describeFailure(test, paint)));
  }

  const rule = paint.dim('─'.repeat(72));
  for (const failure of shown) out.push(rule, failure, '');
  const trouble = troubleText(results, paint);
  if (trouble) out.push(rule, trouble, '');

  const counts = tally(results.tests);
  const total = counts.passed + counts.failed;
  const ok = runPassed(results);
  out.push(rule);
  if (ok) {
    out.push(paint.green(paint.bold(`All ${total} tests pass${counts.skipped ? ` (${counts.skipped} skipped)` : ''}.`)));
    out.push(
      input.next
        ? `Next: chapter ${pad(input.next.number)}, ${input.next.title}. Read ${input.next.chapterDir}/README.md, then run npm run check -- ${input.next.number}`
        : 'That is the last chapter so far: your server and client pass every test there is.',
    );
  } else {
    out.push(paint.bold(`${counts.passed} of ${total} tests pass.`) + ' ' + `Fix the failure${shown.length > 1 ? 's' : ''} above, then run ${input.command} again.`);
    const hidden = counts.failed - shown.length;
    if (hidden > 0) out.push(paint.dim(`${hidden} more failure${hidden > 1 ? 's are' : ' is'} not shown: add --verbose to see every one.`));
  }
  return { text: out.join('\n'), ok };
}

/** A bar of `width` cells, filled in proportion to done / total. */
export function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** One line per chapter: passes, fails (with its count), or not graded yet. */
export function chapterLines(rows: ChapterProgress[], current: Chapter | undefined, paint: Palette): string[] {
  const width = Math.max(...rows.map((row) => row.chapter.title.length));
  return rows.map(({ chapter, status, passed, total }) => {
    const mark = status === 'passed' ? paint.green('✓') : status === 'failed' ? paint.red('✗') : paint.dim('·');
    const detail = status === 'ungraded' ? 'not graded yet' : total === 0 ? 'could not run its tests' : `${passed} of ${total} tests pass`;
    return `  ${mark} ${pad(chapter.number)}  ${chapter.title.padEnd(width)}  ${paint.dim(detail)}${chapter === current ? paint.yellow('   ← you are here') : ''}`;
  });
}

/**
 * The chapter map of `npm start` without a terminal: every chapter, whether its tests pass,
 * and what to do next. The current chapter is the first that does not pass.
 */
export function courseMap(rows: ChapterProgress[], paint: Palette): { text: string; next?: Chapter } {
  const next = rows.find((row) => row.status !== 'passed')?.chapter;
  const passed = rows.filter((row) => row.status === 'passed').length;
  const out = [paint.bold('HTTP/1.1 from the socket up: your chapters'), '', ...chapterLines(rows, next, paint), ''];
  out.push(`${bar(passed, rows.length)} ${passed} of ${rows.length} chapters pass`, '');
  if (next) {
    out.push(
      paint.bold(`Next: chapter ${pad(next.number)}, ${next.title}.`),
      `  1. Read the lesson:   ${next.chapterDir}/README.md`,
      `  2. Write the TODOs:   ${next.chapterDir}/server.ts and client.ts`,
      `  3. Grade your code:   npm run check -- ${next.number}`,
      '',
      'In a terminal, npm start watches your files and grades the chapter on every save.',
    );
  } else {
    out.push(paint.green(paint.bold('Every chapter passes its tests. Well done.')));
  }
  return { text: out.join('\n'), next };
}

export function pad(n: number): string {
  return String(n).padStart(2, '0');
}
