import { describe, expect, it } from 'vitest';
import { palette } from './ansi.ts';
import type { Chapter } from './chapters.ts';
import { checkReport, courseMap, shortName } from './report.ts';
import type { TestResult } from './results-reporter.ts';

const plain = palette(false);
const chapter = (number: number, title: string): Chapter => {
  const id = `${String(number).padStart(2, '0')}-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return { number, id, title, chapterDir: `chapters/${id}`, solutionDir: `solutions/${id}`, testFile: `test/${id}.test.ts` };
};
const one = chapter(1, 'Hello');
const two = chapter(2, 'Framing');
const three = chapter(3, 'Reads');
const result = (file: string, name: string, state: TestResult['state'], extra: Partial<TestResult> = {}): TestResult => ({
  project: 'check',
  file,
  name,
  state,
  errors: state === 'failed' ? [`why ${name} failed`] : [],
  logs: [],
  ...extra,
});

describe('the check report', () => {
  it('lists the newest chapter first, shows the first failure of each in full, and says what to run', () => {
    const tests = [
      result(one.testFile, 'a (chapters/02-framing/server.ts) > one passes', 'passed'),
      result(two.testFile, 'b > two fails', 'failed', { logs: ['debug line'] }),
      result(two.testFile, 'b > three fails', 'failed'),
      result(two.testFile, 'b > curl', 'skipped', { note: 'curl is not installed' }),
    ];
    const { text, ok } = checkReport(
      { chapter: two, graded: [two, one], folder: two.chapterDir, results: { tests, unhandled: [] }, verbose: false, command: 'npm run check -- 2' },
      plain,
    );
    expect(ok).toBe(false);
    expect(text.indexOf('Chapter 02: Framing')).toBeLessThan(text.indexOf('Chapter 01: Hello'));
    expect(text).toContain('✓ a › one passes');
    expect(text).toContain('○ b › curl (skipped: curl is not installed)');
    expect(text).toContain('why b > two fails failed');
    expect(text).toContain('your code printed while this test ran:\n    debug line');
    expect(text).not.toContain('why b > three fails failed');
    expect(text).toContain('1 of 3 tests pass. Fix the failure above, then run npm run check -- 2 again.');
    expect(text).toContain('1 more failure is not shown: add --verbose');
  });

  it('passes only when every test passes, and names the next chapter', () => {
    const { text, ok } = checkReport(
      { chapter: one, graded: [one], folder: one.chapterDir, results: { tests: [result(one.testFile, 'x', 'passed')], unhandled: [] }, verbose: false, command: 'c', next: two },
      plain,
    );
    expect(ok).toBe(true);
    expect(text).toContain('All 1 tests pass.');
    expect(text).toContain('Next: chapter 02, Framing. Read chapters/02-framing/README.md, then run npm run check -- 2');
  });

  it('fails when an error escaped the tests, or when no test ran', () => {
    const input = { chapter: one, graded: [one], folder: one.chapterDir, verbose: false, command: 'c' };
    expect(checkReport({ ...input, results: { tests: [result(one.testFile, 'x', 'passed')], unhandled: ['Error: late'] } }, plain).ok).toBe(false);
    expect(checkReport({ ...input, results: { tests: [], unhandled: [] } }, plain).ok).toBe(false);
  });

  it('explains a run that had to be stopped, and counts a repeated escaped error once', () => {
    const input = { chapter: one, graded: [one], folder: one.chapterDir, verbose: false, command: 'c' };
    const stopped = checkReport({ ...input, results: { tests: [], unhandled: [], timedOut: 60 } }, plain);
    expect(stopped.ok).toBe(false);
    expect(stopped.text).toContain('did not finish within 60 s');
    expect(stopped.text).toContain('endless loop');
    const repeated = checkReport({ ...input, results: { tests: [], unhandled: ['boom\n  at x', 'boom\n  at x'] } }, plain);
    expect(repeated.text.match(/boom/g)).toHaveLength(1);
    expect(repeated.text).toContain('(2 times)');
  });

  it('shortens test names for reading', () => {
    expect(shortName(result('f', 'chapter 01 server (chapters/01-x/server.ts) > answers', 'passed'))).toBe('chapter 01 server › answers');
  });
});

describe('the chapter map', () => {
  it('marks each chapter and points at the first one that does not pass', () => {
    const { text, next } = courseMap(
      [
        { chapter: one, status: 'passed', passed: 1, total: 1 },
        { chapter: two, status: 'failed', passed: 1, total: 2 },
        { chapter: three, status: 'ungraded', passed: 0, total: 0 },
      ],
      plain,
    );
    expect(next).toBe(two);
    expect(text).toContain('✓ 01  Hello');
    expect(text).toMatch(/✗ 02 {2}Framing +1 of 2 tests pass {3}← you are here/);
    expect(text).toMatch(/· 03 {2}Reads +not graded yet/);
    expect(text).toContain('[███████░░░░░░░░░░░░░] 1 of 3 chapters pass');
    expect(text).toContain('3. Grade your code:   npm run check -- 2');
  });

  it('congratulates when every chapter passes', () => {
    expect(courseMap([{ chapter: one, status: 'passed', passed: 1, total: 1 }], plain).text).toContain('Every chapter passes');
  });
});
