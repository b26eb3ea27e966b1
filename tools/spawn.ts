// Starting the course's own TypeScript files as processes, for the tests where the process
// itself is what is tested (the command-line contract, signals, the course commands).

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Wakeup } from '../test/harness/wakeup.ts';
import { ROOT } from './chapters.ts';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout, or rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  finished: Promise<Finished>;
}

export interface RunOptions {
  /** The repository to run in (default: this one); a test's temporary copy, say. */
  root?: string;
  /** Keep stdin open for `child.stdin.write()` (keys typed into a dashboard). */
  stdin?: 'pipe';
}

/**
 * Runs `file` (relative to the repository) with tsx, as `npx tsx file args` would; `input`
 * goes to its stdin, which is then closed.
 */
export function runTs(file: string, args: string[] = [], env: Record<string, string> = {}, input?: string, options: RunOptions = {}): Running {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'COURSE_IMPL'));
  const root = options.root ?? ROOT;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, file), ...args], {
    cwd: root,
    env: { ...clean, NO_COLOR: '1', ...env },
    stdio: [input === undefined && !options.stdin ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  const changed = new Wakeup();
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    changed.notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  const finished = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => {
      exited = true;
      changed.notify();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    finished,
    async waitFor(pattern, ms = 10_000) {
      // A match, or null once the process has ended without printing one, or time runs out.
      const match = await changed.until(() => pattern.exec(stdout) ?? (exited ? null : undefined), ms, null);
      if (!match) throw new Error(`${file} did not print ${pattern} (within ${ms} ms).\nstdout: ${stdout}\nstderr: ${stderr}`);
      return match;
    },
  };
}
