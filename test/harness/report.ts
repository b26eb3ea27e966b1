// What a learner reads when a test fails: what was expected, the bytes sent and received
// (escaped, with a caret at the first wrong byte), what the server said went wrong, and the
// commands that reproduce it by hand.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { byteCount, showBytes } from './bytes.ts';
import type { Problem } from './http-check.ts';
import type { Outcome } from './wire.ts';

// Stack frames name files from the repository root, as the learner sees them.
const ROOT_PREFIX = new RegExp(
  `(file://)?${path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..').replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}[\\\\/]`,
  'g',
);

/**
 * A test failure whose message is the whole report. It carries no stack: the frames would
 * point into the grader, not into the learner's code.
 */
export class GradingFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GradingFailure';
    this.stack = `${this.name}: ${message}`;
  }
}

export interface FailureReport {
  /** What should have happened, in a sentence or two. */
  expected: string;
  sent?: Buffer;
  /** Label for the sent bytes (default "sent"). */
  sentLabel?: string;
  received?: Buffer;
  /** Label for the received bytes (default "received"). */
  receivedLabel?: string;
  /** How reading ended, for the line under the received bytes. */
  outcome?: Outcome;
  /** What is wrong and where, for the caret. */
  problem?: Problem;
  /** Errors the server reported (through `onError`) or the client threw. */
  errors?: unknown[];
  /** Commands that reproduce this by hand. */
  reproduce?: string[];
}

const OUTCOMES: Record<Outcome, string> = {
  complete: '',
  closed: 'and then the connection was closed',
  reset: 'and then the connection was reset',
  timeout: 'and then nothing more for 2 s, with the connection still open',
};

/**
 * The first stack frames that lie in the code under test (a chapter, a solution or a
 * mutant), with paths from the repository root: where a learner looks for their bug.
 */
export function courseFrames(stack: string | undefined): string[] {
  return (stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line) && /(chapters|solutions|\.course)[\\/]/.test(line))
    .slice(0, 3)
    .map((line) => line.trim().replace(ROOT_PREFIX, ''));
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    // A learner's own bug is best shown with where it happened; a TODO stub says it all.
    const frames = courseFrames(error.stack).map((frame) => `      ${frame}`);
    return [`${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`, ...frames].join('\n');
  }
  return String(error);
}

export function renderFailure(report: FailureReport): string {
  const out: string[] = [report.expected];
  if (report.problem) out.push('', report.problem.summary);
  if (report.sent) {
    out.push('', `  ${report.sentLabel ?? 'sent'} (${byteCount(report.sent.length)}):`, showBytes(report.sent));
  }
  if (report.received) {
    const ending = report.outcome ? OUTCOMES[report.outcome] : '';
    out.push(
      '',
      `  ${report.receivedLabel ?? 'received'} (${byteCount(report.received.length)})${ending ? `, ${ending}` : ''}:`,
      showBytes(report.received, {
        caret: report.problem ? { at: report.problem.at, note: report.problem.note } : undefined,
      }),
    );
  }
  if (report.errors && report.errors.length > 0) {
    // The same error from every connection says no more than it does once.
    const counts = new Map<string, number>();
    for (const error of report.errors) {
      const text = describeError(error);
      counts.set(text, (counts.get(text) ?? 0) + 1);
    }
    out.push('', '  errors reported along the way:');
    for (const [text, count] of [...counts].slice(0, 3)) {
      out.push(`    ${text}${count > 1 ? `\n      (${count} times)` : ''}`);
    }
  }
  if (report.reproduce && report.reproduce.length > 0) {
    out.push('', '  try it by hand:', ...report.reproduce.map((line) => `    ${line}`));
  }
  return out.join('\n');
}

export function fail(report: FailureReport): never {
  throw new GradingFailure(renderFailure(report));
}

/**
 * The bytes as a shell `printf` format: printable ASCII as itself, `\r` and `\n` as escapes,
 * anything else in octal (which every printf understands, unlike `\x`).
 */
export function printfFormat(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x0d) out += '\\r';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x25) out += '%%';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x27) out += "'\\''";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}
