// The course commands, run as a learner runs them (in a child process, without a terminal).

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTs } from './spawn.ts';

const course = (...args: string[]) => runTs('tools/course.ts', args).finished;

// Each of these starts processes (and check and start a whole vitest run of their own), which
// on a busy 2-core machine can take far longer than an in-process test.
describe.concurrent('the course commands', { timeout: 60_000 }, () => {
  it('check grades the starter, fails, and shows what was sent, what came back and what to do', async () => {
    const { code, stdout } = await course('check', '1');
    expect(code).toBe(1);
    expect(stdout).toContain('Grading chapters/01-hello-socket with the tests of chapter 01');
    expect(stdout).toContain('TODO(ch01)');
    expect(stdout).toContain('sent (');
    expect(stdout).toContain('try it by hand:');
    expect(stdout).toContain('then run npm run check -- 1 again');
  });

  it('check --solution grades the reference and passes', async () => {
    const { code, stdout } = await course('check', '01', '--solution');
    expect(stdout).toMatch(/All \d+ tests pass/);
    expect(code).toBe(0);
  });

  it('a wrong chapter name lists the valid ones', async () => {
    const { code, stderr } = await course('check', 'nine');
    expect(code).toBe(2);
    expect(stderr).toContain('There is no chapter "nine"');
    expect(stderr).toContain('01-hello-socket');
  });

  it('diff shows the reference against the starter as a unified diff', async () => {
    const { code, stdout } = await course('diff', 'hello-socket');
    expect(code).toBe(0);
    expect(stdout).toContain('--- chapters/01-hello-socket/server.ts');
    expect(stdout).toContain('+++ solutions/01-hello-socket/server.ts');
    expect(stdout).toMatch(/^-.*TODO\(ch01\)/m);
    expect(stdout).not.toContain('\x1b[');
  });

  it('start prints the chapter map once without a terminal, and the next command', async () => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'course-start-'));
    try {
      const { code, stdout } = await runTs('tools/course.ts', ['start'], { COURSE_STATE_DIR: state }).finished;
      expect(code).toBe(0);
      expect(stdout).toMatch(/✗ 01 {2}.*0 of \d+ tests pass {3}← you are here/);
      expect(stdout).toMatch(/· 02 {2}.*not graded yet/);
      expect(stdout).toContain('npm run check -- 1');
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it.each([['--help'], ...['start', 'check', 'diff', 'hint', 'reset', 'server', 'client'].map((command) => [command, '--help'])].map((args) => [args.join(' '), args] as const))(
    'answers %s with its usage',
    async (_, args) => {
      const { code, stdout } = await course(...args);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^npm (start|run)/m);
    },
  );

  it('rejects an unknown option with the usage of the command', async () => {
    const { code, stderr } = await course('check', '1', '--frobnicate');
    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--frobnicate'");
    expect(stderr).toContain('npm run check -- N');
  });
});
