// Runs vitest on a grading plan in a child process and returns every test's result.
// A child process, because each plan sets the environment the test files read, and so that
// a learner's code that crashes or hangs cannot take the course command down with it.

import { spawn, type ChildProcess } from 'node:child_process';
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
export function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('VITEST') && key !== 'COURSE_IMPL' && key !== 'COURSE_PLAN' && key !== 'TEST') env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Stops a child started with `detached` (its own process group, on POSIX) together with every
 * process it started: a stuck test sits in one of vitest's workers, not in vitest itself.
 */
export function killProcessGroup(child: ChildProcess): void {
  try {
    if (process.platform !== 'win32' && child.pid) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

export interface GradeOptions {
  /** How many vitest workers to run at once (vitest's default: the number of cores). */
  workers?: number;
  /** Seconds before the whole run is stopped: an endless loop in the code under test blocks
   *  the worker's event loop, and with it every deadline the tests set. Default 60. */
  timeoutSeconds?: number;
  root?: string;
}

export interface GradeResults extends RunResults {
  exitCode: number;
  /** What vitest printed (only its own errors: the results reporter prints nothing). */
  output: string;
  /** Set to the time limit, in seconds, when the run had to be stopped. */
  timedOut?: number;
}

export async function grade(plan: PlanProject[], options: GradeOptions = {}): Promise<GradeResults> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'course-grade-'));
  const resultsFile = path.join(dir, 'results.json');
  const root = options.root ?? ROOT;
  try {
    const child = spawn(
      process.execPath,
      [VITEST, 'run', '--config', path.join(root, 'vitest.config.ts'), '--reporter', path.join(root, 'tools', 'results-reporter.ts')],
      {
        cwd: root,
        env: cleanEnvironment({
          COURSE_PLAN: JSON.stringify(plan),
          COURSE_RESULTS: resultsFile,
          FORCE_COLOR: '0',
          ...(options.workers ? { COURSE_WORKERS: String(options.workers) } : {}),
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so a stuck run can be stopped with all its workers (POSIX).
        detached: process.platform !== 'win32',
      },
    );
    // In its own group it no longer hears the terminal's Ctrl-C: pass the stop on.
    const stopGroup = (): void => killProcessGroup(child);
    const onSignal = (): void => {
      stopGroup();
      process.exit(130);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('exit', stopGroup);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const limit = options.timeoutSeconds ?? 60;
    let timedOut: number | undefined;
    const timer = setTimeout(() => {
      timedOut = limit;
      // The whole group: a stuck test is in one of vitest's workers, not in vitest itself.
      stopGroup();
    }, limit * 1000);
    const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', stopGroup);
    let results: RunResults;
    try {
      results = JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults;
    } catch {
      results = {
        tests: [],
        unhandled: timedOut ? [] : [`vitest ended (exit code ${exitCode}) without results:\n${output.trim().replace(/\x1b\[[0-9;]*m/g, '')}`],
      };
    }
    return { ...results, exitCode, output, timedOut };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
