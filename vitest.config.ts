// Which test files run against which implementation.
//
// Without COURSE_PLAN, each chapter's test file grades the learner's folder for its chapter
// (chapters/NN-*), and the tooling's own tests run too. The course commands (npm run check,
// npm start, npm test) pass COURSE_PLAN: a JSON list of projects, each naming the folder to
// grade (COURSE_IMPL) and the test files to grade it with.

import { defineConfig } from 'vitest/config';
import { readPlan } from './tools/plan.ts';

const plan = readPlan(process.env.COURSE_PLAN);

export default defineConfig({
  test: {
    // Each test has its own shorter deadline (2 s per read) so a hang fails with a report;
    // these only catch what slips past those.
    // Threads start faster than forked processes, and each project (a mutant, say) needs its own.
    pool: 'threads',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Grading mostly waits on sockets and deadlines, not on the CPU: the selftest runs more
    // workers than cores (COURSE_WORKERS) so the waits overlap.
    ...(process.env.COURSE_WORKERS ? { maxWorkers: Number(process.env.COURSE_WORKERS) } : {}),
    projects: (plan ?? [
      { name: 'chapters', tests: ['test/*.test.ts'] },
      { name: 'tooling', tests: ['tools/**/*.test.ts', 'test/harness/**/*.test.ts'] },
    ]).map((project) => ({
      extends: true,
      test: {
        name: project.name,
        include: project.tests,
        env: {
          ...(project.impl ? { COURSE_IMPL: project.impl } : {}),
          ...(project.only ? { COURSE_ONLY: JSON.stringify(project.only) } : {}),
        },
        setupFiles: project.only ? ['test/harness/only.ts'] : [],
      },
    })),
  },
});
