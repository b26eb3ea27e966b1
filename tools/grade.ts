// Runs vitest on a grading plan in a child process and returns every test's result.
// A child process, because each plan sets the environment the test files read, and so that
// a learner's code that crashes or hangs cannot take the course command down with it.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './chapters.ts';
import type { PlanProject } from './plan.ts';
import type { RunResults } from './results-reporter.ts';

const require = createRequire(import.meta.url);
const VITEST = path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');

/** Variables that vitest sets for its own workers; a nested run must not inherit them. */
function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('VITEST') && key !== 'COURSE_IMPL' && key !== 'COURSE_PLAN' && key !== 'TEST') env[key] = value;
  }
  return { ...env, ...extra };
}

export interface GradeOptions {
  /** Seconds before the whole run is stopped (a learner's code may hang in ways tests cannot catch). */
  timeoutSeconds?: number;
  root?: string;
}

export async function grade(plan: PlanProject[], options: GradeOptions = {}): Promise<RunResults & { exitCode: number; output: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'course-grade-'));
  const resultsFile = path.join(dir, 'results.json');
  const root = options.root ?? ROOT;
  try {
    const child = spawn(
      process.execPath,
      [VITEST, 'run', '--config', path.join(root, 'vitest.config.ts'), '--reporter', path.join(root, 'tools', 'results-reporter.ts')],
      {
        cwd: root,
        env: cleanEnvironment({ COURSE_PLAN: JSON.stringify(plan), COURSE_RESULTS: resultsFile, FORCE_COLOR: '0' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (options.timeoutSeconds ?? 120) * 1000);
    const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    clearTimeout(timer);
    let results: RunResults;
    try {
      results = JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults;
    } catch {
      results = { tests: [], unhandled: [`vitest ended (exit code ${exitCode}) without results:\n${output.trim()}`] };
    }
    return { ...results, exitCode, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
