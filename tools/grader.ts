// A chapter's grade from the grading service (tools/grader-service.ts), which keeps vitest
// running between runs. Starts the service on first use, and again after a run that had to
// be stopped or a service that died.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT, type Chapter } from './chapters.ts';
import { cleanEnvironment, killProcessGroup, type GradeResults } from './grade.ts';
import type { GradeRequest, ServiceMessage } from './grader-service.ts';
import type { PlanProject } from './plan.ts';

export interface GraderOptions {
  root?: string;
  /** Seconds a run may take before the service is stopped (see grade.ts). Default 60. */
  timeoutSeconds?: number;
}

export class Grader {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private output = '';
  private nextId = 1;
  private readonly root: string;

  constructor(
    private readonly chapters: Chapter[],
    private readonly options: GraderOptions = {},
  ) {
    this.root = options.root ?? ROOT;
  }

  /** Runs `chapter`'s own tests on its folder in chapters/. */
  async grade(chapter: Chapter): Promise<GradeResults> {
    const child = await this.start();
    const id = this.nextId++;
    const limit = this.options.timeoutSeconds ?? 60;
    this.output = '';
    return new Promise<GradeResults>((resolve) => {
      const finish = (results: GradeResults): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(results);
      };
      const onMessage = (message: ServiceMessage): void => {
        if (message.type === 'results' && message.id === id) finish({ ...message.results, exitCode: 0, output: this.output });
      };
      const onExit = (code: number | null): void => {
        this.forget(child);
        finish({ tests: [], unhandled: [`The grader stopped (exit code ${code}) before the tests finished:\n${this.output.trim()}`], exitCode: code ?? 1, output: this.output });
      };
      const timer = setTimeout(() => {
        this.stop();
        finish({ tests: [], unhandled: [], exitCode: 1, output: this.output, timedOut: limit });
      }, limit * 1000);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ id, project: chapter.id } satisfies GradeRequest);
    });
  }

  stop(): void {
    const child = this.child;
    if (!child) return;
    this.forget(child);
    // The whole group: tests may have started processes of their own.
    killProcessGroup(child);
  }

  private forget(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ready = undefined;
  }

  private async start(): Promise<ChildProcess> {
    if (this.child && this.ready) {
      await this.ready;
      return this.child;
    }
    const plan: PlanProject[] = this.chapters.map((chapter) => ({ name: chapter.id, impl: chapter.chapterDir, tests: [chapter.testFile] }));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(this.root, 'tools', 'grader-service.ts')], {
      cwd: this.root,
      env: cleanEnvironment({ COURSE_PLAN: JSON.stringify(plan), FORCE_COLOR: '0' }),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group, so stop() ends it with everything the tests started (POSIX).
      // It still ends with us: it exits when the IPC channel closes.
      detached: process.platform !== 'win32',
    });
    // What the learner's code prints outside a test, and vitest's own complaints.
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child = child;
    this.ready = new Promise<void>((resolve) => {
      const onMessage = (message: ServiceMessage): void => {
        if (message.type !== 'ready') return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      // A service that dies while starting resolves too: grade() then hears its exit.
      child.once('exit', () => resolve());
    });
    await this.ready;
    return child;
  }
}
