// The grading service behind `npm start`'s dashboard: one vitest instance kept running in its
// own process, so that grading again after a save costs a test run, not a vitest start (about
// 0.6 s instead of 2 s for chapter 01). The dashboard talks to it over IPC, and kills and
// restarts it when a run does not finish: an endless loop in a learner's code blocks a
// worker, and only a new process gets it back.
//
// Started by tools/grader.ts with COURSE_PLAN naming one project per chapter.

import path from 'node:path';
import { createVitest } from 'vitest/node';
import { filesUnder } from './chapters.ts';
import { readPlan } from './plan.ts';
import { ResultsReporter, type RunResults } from './results-reporter.ts';

export interface GradeRequest {
  id: number;
  /** The plan's project to run: a chapter's id. */
  project: string;
}

export type ServiceMessage = { type: 'ready' } | { type: 'results'; id: number; results: RunResults };

function send(message: ServiceMessage): void {
  process.send?.(message);
}

const plan = readPlan(process.env.COURSE_PLAN) ?? [];
let delivered: (results: RunResults) => void = () => {};
const vitest = await createVitest('test', {
  watch: false,
  config: path.join(process.cwd(), 'vitest.config.ts'),
  reporters: [new ResultsReporter((results: RunResults) => delivered(results))],
});

// One run at a time: vitest runs one set of specifications at once.
let queue = Promise.resolve();
process.on('message', (request: GradeRequest) => {
  queue = queue.then(async () => {
    const project = plan.find((entry) => entry.name === request.project);
    // vitest caches what it compiled, and the learner has just saved one of these files.
    if (project?.impl) for (const file of filesUnder(path.resolve(project.impl))) vitest.invalidateFile(file);
    const specifications = (await vitest.globTestSpecifications()).filter((spec) => spec.project.name === request.project);
    const results = await new Promise<RunResults>((resolve) => {
      delivered = resolve;
      vitest.runTestSpecifications(specifications).catch((error: unknown) =>
        resolve({ tests: [], unhandled: [`vitest could not run the tests: ${String(error)}`] }),
      );
    });
    send({ type: 'results', id: request.id, results });
  });
});
// The dashboard is gone (closed, or killed): so is the reason to run.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
