// `npm test`: the course checks itself. This is what CI runs.
//
// 1. Every file type-checks (strict TypeScript), and every lesson passes markdownlint.
// 2. Every solution passes its own chapter's tests and those of all earlier chapters.
// 3. Every starter fails every one of its own chapter's new tests: a test that passes on a
//    stub asserts nothing the learner writes. A test named "recap: ..." re-checks a rule an
//    earlier chapter taught (a row of chapter 08's rules table, say): the starter, built on
//    the earlier references, passes it by design, so it is left out of this check, but the
//    solutions must pass it like any other.
// 4. The tooling's own tests pass.
//
// `--mutants` (npm run mutants, which CI runs too) checks instead that every mutant (a
// learner's mistake put into a copy of the reference, test/mutants/) is caught by the tests
// named for it. It is kept apart because it grows with every chapter, and npm test must stay
// quick.
//
// It ends with one line, "selftest: N passed, N failed", and exits 0 only if nothing failed.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { colourWanted, palette } from './ansi.ts';
import { ROOT, listChapters, type Chapter } from './chapters.ts';
import { grade } from './grade.ts';
import type { PlanProject } from './plan.ts';
import { pad, shortName } from './report.ts';
import type { Mutant } from '../test/mutants/mutant.ts';
import type { TestResult } from './results-reporter.ts';

const paint = palette(colourWanted({}));
const require = createRequire(import.meta.url);

function binary(pkg: string, bin: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bins = (require(manifest) as { bin: Record<string, string> }).bin;
  return path.join(path.dirname(manifest), bins[bin]!);
}

function runTool(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

type Expectation = 'pass' | 'fail' | 'caught';

interface Group extends PlanProject {
  expect: Expectation;
  /** What the group proves, for the report. */
  label: string;
  /** For a mutant: the parts of the names of the tests that must fail. */
  caughtBy?: string[];
}

const MUTANTS_DIR = path.join(ROOT, '.course', 'mutants');

/** Builds each chapter's mutants in .course/mutants/ and returns a group for each. */
async function mutantGroups(chapters: Chapter[]): Promise<{ groups: Group[]; problems: string[] }> {
  rmSync(MUTANTS_DIR, { recursive: true, force: true });
  const groups: Group[] = [];
  const problems: string[] = [];
  for (const chapter of chapters) {
    const file = path.join(ROOT, 'test', 'mutants', `${chapter.id}.ts`);
    if (!existsSync(file)) continue;
    const { mutants } = (await import(pathToFileURL(file).href)) as { mutants: Mutant[] };
    mutants.forEach((mutant, i) => {
      const slug = `${chapter.id.slice(0, 2)}-${String(i + 1).padStart(2, '0')}`;
      const dir = `.course/mutants/${slug}/${chapter.id}`;
      cpSync(path.join(ROOT, chapter.solutionDir), path.join(ROOT, dir), { recursive: true });
      const target = path.join(ROOT, dir, mutant.file);
      const source = readFileSync(target, 'utf8');
      const found = source.split(mutant.find).length - 1;
      if (found !== 1) {
        problems.push(`mutant "${mutant.name}" (${chapter.id}) finds its text ${found} times in ${chapter.solutionDir}/${mutant.file}, not once: update test/mutants/${chapter.id}.ts`);
        return;
      }
      writeFileSync(target, source.replace(mutant.find, () => mutant.replace));
      groups.push({
        name: `mutant ${slug}`,
        impl: dir,
        tests: [chapter.testFile],
        only: mutant.caughtBy,
        expect: 'caught',
        caughtBy: mutant.caughtBy,
        label: `chapter ${pad(chapter.number)} catches "${mutant.name}"`,
      });
    });
  }
  return { groups, problems };
}

function plan(chapters: Chapter[]): Group[] {
  const groups: Group[] = [
    {
      name: 'tooling',
      tests: ['tools/**/*.test.ts', 'test/harness/**/*.test.ts'],
      expect: 'pass',
      label: 'the tooling and the grading harness pass their own tests',
    },
  ];
  for (const chapter of chapters) {
    const earlier = chapters.filter((other) => other.number < chapter.number);
    const upTo = [...earlier, chapter];
    groups.push({
      name: `solution ${chapter.id}`,
      impl: chapter.solutionDir,
      tests: upTo.map((other) => other.testFile),
      expect: 'pass',
      label: `${chapter.solutionDir} passes the tests of chapter${upTo.length > 1 ? `s 01-${pad(chapter.number)}` : ` ${pad(chapter.number)}`}`,
    });
    groups.push({
      name: `starter ${chapter.id} new`,
      impl: chapter.chapterDir,
      tests: [chapter.testFile],
      expect: 'fail',
      label: `${chapter.chapterDir} (the starter) fails every new test of chapter ${pad(chapter.number)}`,
    });
  }
  return groups;
}

/** A test that re-checks what an earlier chapter taught: a starter may pass it. */
const isRecap = (test: TestResult): boolean => test.name.includes('recap: ');

/** "N of M fail" for a starter, with the recap tests that passed, as they may, counted apart. */
function recapCount(tests: TestResult[], ran: number, bad: number): string {
  const recaps = tests.filter((test) => isRecap(test) && test.state === 'passed').length;
  return `${ran - bad - recaps} of ${ran - recaps} fail${recaps > 0 ? `; ${recaps} recap tests pass, as they may` : ''}`;
}

/** The tests that broke the group's expectation. */
function broken(group: Group, tests: TestResult[]): TestResult[] {
  if (group.expect === 'pass') return tests.filter((test) => test.state === 'failed');
  if (group.expect === 'fail') return tests.filter((test) => test.state === 'passed' && !isRecap(test));
  return tests.filter((test) => test.state !== 'failed' && group.caughtBy!.some((part) => test.name.includes(part)));
}

async function main(): Promise<number> {
  const started = Date.now();
  const chapters = listChapters();
  const onlyMutants = process.argv.includes('--mutants');
  const mutants = onlyMutants ? await mutantGroups(chapters) : { groups: [], problems: [] };
  const groups = onlyMutants ? mutants.groups : plan(chapters);
  console.log(paint.bold(`selftest${onlyMutants ? ' --mutants' : ''}: ${chapters.length} chapters, ${groups.length} groups of tests`));

  const skip = Promise.resolve({ code: 0, output: '' });
  const [typecheck, lint, results] = await Promise.all([
    onlyMutants ? skip : runTool([binary('typescript', 'tsc'), '--noEmit', '-p', '.']),
    onlyMutants ? skip : runTool([binary('markdownlint-cli', 'markdownlint'), '**/*.md', '--ignore', 'node_modules', '--ignore', '.course']),
    grade(groups, { timeoutSeconds: 300, workers: 4 }),
  ]);

  // The closing line counts checks: each test run that met its expectation (a starter's test
  // that fails as it should counts as passed), plus the type-check and the lint.
  let passed = 0;
  let failed = 0;
  let skippedTotal = 0;
  const report = (ok: boolean, label: string, details = '', counts = { good: ok ? 1 : 0, bad: ok ? 0 : 1 }): void => {
    passed += counts.good;
    // A group that failed counts at least once, even when no single test is to blame.
    if (!ok) failed += Math.max(1, counts.bad);
    console.log(`${ok ? paint.green('✓') : paint.red('✗')} ${label}`);
    if (!ok && details) console.log(details.replace(/^/gm, '    '));
  };

  if (!onlyMutants) {
    report(typecheck.code === 0, 'every file type-checks (tsc --noEmit, strict)', typecheck.output.trim());
    report(lint.code === 0, 'every Markdown file passes markdownlint', lint.output.trim());
  }

  for (const group of groups) {
    const tests = results.tests.filter((test) => test.project === group.name);
    const bad = broken(group, tests);
    const ran = tests.filter((test) => test.state !== 'skipped').length;
    const skipped = tests.filter((test) => test.state === 'skipped');
    let ok = bad.length === 0 && ran > 0;
    let details = '';
    if (ran === 0) details = 'No test ran in this group.';
    if (group.expect === 'fail') {
      // A file that cannot even load "fails" every test without asserting anything.
      const loadFailure = tests.find((test) => test.name === '(the test file could not run)');
      if (loadFailure) {
        ok = false;
        details = `The test file could not run against the starter, so nothing was proven:\n${loadFailure.errors.join('\n')}`;
      } else if (bad.length > 0) {
        details = [
          'These tests pass on the unmodified starter, so they do not test what the learner writes.',
          'Make each one assert something the starter cannot do yet (or, if chapters/ holds your',
          'own work rather than the starters, restore them with git before running npm test):',
          ...bad.map((test) => `  ${shortName(test)}`),
        ].join('\n');
      }
    } else if (group.expect === 'caught') {
      const unmatched = group.caughtBy!.filter((part) => !tests.some((test) => test.name.includes(part)));
      if (unmatched.length > 0) {
        ok = false;
        details = `No test has a name containing: ${unmatched.map((part) => `"${part}"`).join(', ')}`;
      } else if (bad.length > 0) {
        details = `These tests should catch the mistake, but did not fail:\n${bad.map((test) => `  ${shortName(test)}`).join('\n')}`;
      }
    } else if (bad.length > 0) {
      details = bad.map((test) => `${paint.red(shortName(test))}\n${test.errors.join('\n\n').replace(/^/gm, '  ')}`).join('\n\n');
    }
    const counts =
      group.expect === 'pass'
        ? `${ran - bad.length} of ${ran} pass`
        : group.expect === 'fail'
          ? recapCount(tests, ran, bad.length)
          : `${tests.filter((test) => test.state === 'failed').length} of the ${ran} tests named for it fail`;
    const skipNote = skipped.length > 0 && group.expect !== 'caught' ? paint.dim(` (${skipped.length} skipped: ${[...new Set(skipped.map((test) => test.note ?? 'no reason given'))].join('; ')})`) : '';
    if (group.expect !== 'caught') skippedTotal += skipped.length;
    // A mutant is one check: caught or not.
    const tally = group.expect === 'caught' ? { good: ok ? 1 : 0, bad: ok ? 0 : 1 } : { good: ran - bad.length, bad: bad.length };
    report(ok, `${group.label}: ${counts}${skipNote}`, details, tally);
  }

  for (const problem of mutants.problems) report(false, problem);
  rmSync(MUTANTS_DIR, { recursive: true, force: true });

  // Errors thrown outside any test (in a socket callback, say) are failures wherever they came from.
  report(results.unhandled.length === 0, 'no error escaped the tests', results.unhandled.join('\n\n'));
  if (results.tests.length === 0) console.log(results.output);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(paint.dim(`\n${results.tests.length} test runs in ${seconds} s`));
  console.log(`selftest: ${passed} passed, ${failed} failed${skippedTotal > 0 ? `, ${skippedTotal} skipped` : ''}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
