// The dashboard of `npm start`: in-process with a stand-in grader (the loop, the keys, the
// watching and the polling, in a folder of its own), and once for real in a temporary copy
// of the course, as a learner uses it.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { palette } from './ansi.ts';
import { listChapters, type Chapter } from './chapters.ts';
import { Dashboard, KEYS } from './dashboard.ts';
import { Grader } from './grader.ts';
import type { GradeResults } from './grade.ts';
import { Progress, survey } from './progress.ts';
import { runTs } from './spawn.ts';
import { copyRepository } from './temp-repo.ts';

const plain = palette(false);
const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A course of two tiny chapters; a chapter "passes" when its server.ts says PASS. */
function tinyCourse(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'course-dash-'));
  folders.push(root);
  for (const [id, title] of [['01-one', 'One'], ['02-two', 'Two']] as const) {
    for (const [dir, code] of [['chapters', '// TODO\n'], ['solutions', '// PASS\n']] as const) {
      mkdirSync(path.join(root, dir, id), { recursive: true });
      writeFileSync(path.join(root, dir, id, 'server.ts'), code);
    }
    writeFileSync(
      path.join(root, 'chapters', id, 'README.md'),
      `# Chapter ${id.slice(0, 2)}: ${title}\n\n<details>\n<summary>Hint 1: look closer</summary>\n\nThe ${title} hint.\n\n</details>\n`,
    );
  }
  return root;
}

const passes = (root: string, chapter: Chapter) => readFileSync(path.join(root, chapter.chapterDir, 'server.ts'), 'utf8').includes('PASS');

/** Grades by reading server.ts; counts its runs. A failure looks like a harness report. */
function standInGrader(root: string) {
  const runs: string[] = [];
  return {
    runs,
    stop: () => {},
    async grade(chapter: Chapter): Promise<GradeResults> {
      runs.push(chapter.id);
      const ok = passes(root, chapter);
      const test = {
        project: chapter.id,
        file: chapter.testFile,
        name: `${chapter.title} > answers GET /`,
        state: ok ? ('passed' as const) : ('failed' as const),
        errors: ok ? [] : ['GET / should be answered 200.\n\n  received (8 bytes), and then nothing more for 2 s, with the connection still open:\n    HTTP/1.1'],
        logs: [],
      };
      return { tests: [test], unhandled: [], exitCode: ok ? 0 : 1, output: '' };
    },
  };
}

function startDashboard(root: string, poll = false) {
  const chapters = listChapters(root);
  const grader = standInGrader(root);
  let screen = '';
  const input = new PassThrough();
  const dashboard = new Dashboard({
    root,
    chapters,
    grader,
    progress: new Progress(root),
    paint: plain,
    output: { write: (text) => (screen += text), clear: false },
    input,
    poll,
  });
  const running = dashboard.run();
  /** Waits until the screen, from `from` on, matches; the whole screen is in the failure. */
  const until = async (pattern: RegExp, from = 0, ms = 5000): Promise<number> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const at = screen.slice(from).search(pattern);
      if (at >= 0) return from + at;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`the dashboard did not show ${pattern} within ${ms} ms; it showed:\n${screen.slice(from)}`);
  };
  return { dashboard, grader, running, input, until, screen: () => screen };
}

describe('the dashboard (npm start in a terminal)', () => {
  it('opens on the first chapter that does not pass, with its first failure, a plain hint and the keys', async () => {
    const root = tinyCourse();
    writeFileSync(path.join(root, 'chapters/01-one/server.ts'), '// PASS\n');
    const { until, input, running, screen } = startDashboard(root);
    const at = screen().lastIndexOf('HTTP/1.1 from the socket up', await until(/Chapter 02 .*0 of 1 tests pass/));
    await until(new RegExp(KEYS.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), at);
    expect(screen().slice(at)).toMatch(/Course +\[[█░]{20}\] 1 of 2 chapters pass/);
    expect(screen().slice(at)).toContain('✗ Two › answers GET /');
    expect(screen().slice(at)).toContain('hint: A timeout');
    input.write('q');
    await running;
  });

  it.each([
    ['change events', false],
    ['polling (--poll)', true],
  ])('grades again when a file is saved (%s), says the chapter passes, and moves on', async (_, poll) => {
    const root = tinyCourse();
    const { until, input, running, grader } = startDashboard(root, poll);
    const failing = await until(/Chapter 01 .*0 of 1 tests pass/);
    writeFileSync(path.join(root, 'chapters/01-one/server.ts'), '// PASS\n');
    const passed = await until(/✓ Chapter 01, One: all 1 tests pass\./, failing);
    await until(/Your code is the same as the reference solution\.[\s\S]*On to chapter 02, Two[\s\S]*Chapter 02 .*0 of 1 tests pass/, passed);
    writeFileSync(path.join(root, 'chapters/02-two/server.ts'), '// PASS, with a difference\n');
    const done = await until(/✓ Chapter 02, Two: all 1 tests pass\./, passed);
    await until(/server\.ts +\+1 -1 lines[\s\S]*Every chapter passes its tests/, done);
    input.write('q');
    await running;
    expect(grader.runs).toEqual(['01-one', '01-one', '02-two', '02-two']);
  });

  it('answers h (hint), d (diff), l (chapters), n and p (move), r (re-run) and q (quit)', async () => {
    const root = tinyCourse();
    const { until, input, running, grader } = startDashboard(root);
    let at = await until(/Chapter 01 .*0 of 1 tests pass/);
    input.write('h');
    at = await until(/Hint for chapter 01[\s\S]*Hint 1 of 1: look closer[\s\S]*The One hint\./, at);
    input.write('d');
    at = await until(/npm run diff -- 1[\s\S]*-\/\/ TODO\n\+\/\/ PASS/, at);
    input.write('l');
    at = await until(/The chapters[\s\S]*✗ 01 {2}One +0 of 1 tests pass {3}← you are here\n {2}· 02 {2}Two +not graded yet/, at);
    input.write('n');
    at = await until(/Chapter 02 .*0 of 1 tests pass .*Two \(you are at chapter 01\)/, at);
    input.write('p');
    at = await until(/Chapter 01 .*0 of 1 tests pass/, at);
    input.write('r');
    await until(/Chapter 01 .*grading…/, at);
    await until(/Chapter 01 .*0 of 1 tests pass/, at + 1);
    input.write('q');
    await running;
    expect(grader.runs).toEqual(['01-one', '02-two', '01-one', '01-one']);
  });
});

describe('finding the current chapter', () => {
  it('grades in order until a chapter fails, and remembers passes until the code changes', async () => {
    const root = tinyCourse();
    writeFileSync(path.join(root, 'chapters/01-one/server.ts'), '// PASS\n');
    const chapters = listChapters(root);
    const grader = standInGrader(root);
    const first = await survey(chapters, (chapter) => grader.grade(chapter), new Progress(root));
    const second = await survey(chapters, (chapter) => grader.grade(chapter), new Progress(root));
    writeFileSync(path.join(root, 'chapters/01-one/server.ts'), '// PASS, and edited\n');
    await survey(chapters, (chapter) => grader.grade(chapter), new Progress(root));
    expect({ current: first.current?.id, again: second.current?.id, statuses: first.rows.map((row) => row.status), runs: grader.runs }).toEqual({
      current: '02-two',
      again: '02-two',
      statuses: ['passed', 'failed'],
      runs: ['01-one', '02-two', '02-two', '01-one', '02-two'],
    });
  });
});

// The real thing: vitest grading the real chapter 01 in a copy of the course. It costs a few
// seconds, so it is the one test of the loop that starts processes.
describe('npm start --watch in a copy of the course', { timeout: 90_000 }, () => {
  it('shows chapter 01 failing, turns green when the solution is saved, moves on, and answers h, d, l and q', async () => {
    const copy = copyRepository(['01-hello-socket', '02-crlf-framing']);
    folders.push(copy.root);
    const state = path.join(copy.root, '.course');
    const run = runTs('tools/course.ts', ['start', '--watch'], { COURSE_STATE_DIR: state }, undefined, { root: copy.root, stdin: 'pipe' });
    try {
      await run.waitFor(/Chapter 01 .*0 of 13 tests pass[\s\S]*TODO\(ch01\)[\s\S]*try it by hand:/, 40_000);
      for (const file of ['server.ts', 'client.ts']) {
        copyFileSync(path.join(copy.root, 'solutions/01-hello-socket', file), path.join(copy.root, 'chapters/01-hello-socket', file));
      }
      await run.waitFor(/✓ Chapter 01, Hello, socket: all 13 tests pass\./, 30_000);
      await run.waitFor(/Chapter 02 .* of 67 tests pass/, 30_000);
      run.child.stdin!.write('h');
      await run.waitFor(/Hint for chapter 02[\s\S]*Hint 1 of \d+/);
      run.child.stdin!.write('d');
      await run.waitFor(/--- chapters\/02-crlf-framing\/protocol\.ts/);
      run.child.stdin!.write('l');
      await run.waitFor(/The chapters[\s\S]*✓ 01 {2}Hello, socket/);
      run.child.stdin!.write('q');
      const finished = await run.finished;
      expect({ code: finished.code, stderr: finished.stderr.replace(/npm warn.*\n?/g, '') }).toEqual({ code: 0, stderr: '' });
    } finally {
      run.child.kill();
    }
  });
});

describe('the grading service', { timeout: 90_000 }, () => {
  it('stops a run that never ends, says so, and grades again with a new service', async () => {
    const copy = copyRepository(['01-hello-socket']);
    folders.push(copy.root);
    const server = path.join(copy.root, 'chapters/01-hello-socket/server.ts');
    const starter = readFileSync(server, 'utf8');
    // The learner's endless loop: it blocks the worker, and with it every deadline of the tests.
    const looping = starter.replace(/export function startServer\(.*\{\n/, (line) => `${line}  for (;;) {}\n`);
    expect(looping).not.toBe(starter);
    writeFileSync(server, looping);
    const grader = new Grader(listChapters(copy.root), { root: copy.root, timeoutSeconds: 5 });
    try {
      const stuck = await grader.grade(listChapters(copy.root)[0]!);
      writeFileSync(server, starter);
      const again = await grader.grade(listChapters(copy.root)[0]!);
      expect({ stuck: stuck.timedOut, tests: again.tests.length, failed: again.tests.every((test) => test.state === 'failed') }).toEqual({
        stuck: 5,
        tests: 13,
        failed: true,
      });
    } finally {
      grader.stop();
    }
  });
});
