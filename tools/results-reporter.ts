// A vitest reporter that prints nothing and writes every test's result, per project, to the
// JSON file named by COURSE_RESULTS. The course commands read it and speak for themselves.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { courseFrames } from '../test/harness/report.ts';

export interface TestResult {
  project: string;
  /** The test file, relative to the repository, with forward slashes. */
  file: string;
  /** The describe blocks and the test name, joined with " > ". */
  name: string;
  state: 'passed' | 'failed' | 'skipped';
  /** Why it was skipped, when the test said. */
  note?: string;
  /** The failure messages (with vitest's diff, where it made one). */
  errors: string[];
  /** What the code under test printed while this test ran. */
  logs: string[];
}

export interface RunResults {
  tests: TestResult[];
  /** Errors outside any test (for example a crash in a socket callback). */
  unhandled: string[];
}

interface SerializedError {
  message?: string;
  name?: string;
  diff?: string;
  stack?: string;
}

function describe(error: SerializedError): string {
  const name = error.name && error.name !== 'Error' && error.name !== 'GradingFailure' && error.name !== 'AssertionError' ? `${error.name}: ` : '';
  // A grading report carries its own frames (in its message); other errors get theirs here.
  const frames = error.name === 'GradingFailure' ? [] : courseFrames(error.stack).map((frame) => `  ${frame}`);
  const message = [`${name}${error.message ?? String(error)}`, ...frames].join('\n');
  const text = error.diff ? `${message}\n\n${error.diff}` : message;
  // Colours are the course command's to choose, not vitest's.
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** Every test's result from vitest's modules, with what each test printed (by test id). */
export function collectResults(
  modules: ReadonlyArray<TestModule>,
  unhandled: ReadonlyArray<SerializedError>,
  logs: ReadonlyMap<string, string[]> = new Map(),
): RunResults {
  const tests: TestResult[] = [];
  for (const module of modules) {
    const file = path.relative(process.cwd(), module.moduleId).split(path.sep).join('/');
    const project = module.project.name;
    const moduleErrors = module.errors();
    if (moduleErrors.length > 0) {
      tests.push({
        project,
        file,
        name: '(the test file could not run)',
        state: 'failed',
        errors: moduleErrors.map((error) => describe(error as SerializedError)),
        logs: [],
      });
    }
    for (const test of module.children.allTests()) {
      const result = test.result();
      if (result.state === 'pending') continue;
      tests.push({
        project,
        file,
        name: test.fullName,
        state: result.state,
        note: result.state === 'skipped' ? result.note : undefined,
        errors: (result.errors ?? []).map((error) => describe(error as SerializedError)),
        logs: logs.get(test.id) ?? [],
      });
    }
  }
  return { tests, unhandled: unhandled.map((error) => describe(error)) };
}

/**
 * Writes the results to the file named by COURSE_RESULTS (a run in a child process), or
 * hands them to `onResults` (the grading service, which keeps vitest running between runs).
 */
export class ResultsReporter implements Reporter {
  private logs = new Map<string, string[]>();

  private readonly onResults?: (results: RunResults) => void;

  // vitest hands a reporter named by path its options object; the service hands a function.
  constructor(onResults?: unknown) {
    if (typeof onResults === 'function') this.onResults = onResults as (results: RunResults) => void;
  }

  onUserConsoleLog(log: { content: string; taskId?: string }): void {
    if (!log.taskId) return;
    const lines = this.logs.get(log.taskId) ?? [];
    lines.push(log.content.trimEnd());
    this.logs.set(log.taskId, lines);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    const results = collectResults(modules, unhandled, this.logs);
    this.logs = new Map();
    if (this.onResults) return this.onResults(results);
    const out = process.env.COURSE_RESULTS;
    if (out) writeFileSync(out, JSON.stringify(results, null, 2));
  }
}

// vitest loads a reporter named by path through its default export: the one default
// export in the course, because the API asks for it.
export default ResultsReporter;
