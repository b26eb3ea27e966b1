// The course commands behind the npm scripts: start, check, diff, hint, reset, server, client.
// Run as `tsx tools/course.ts <command> [args]`; `--help` on any command says more.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { colourWanted, palette } from './ansi.ts';
import { ChapterNameError, ROOT, listChapters, resolveChapter, type Chapter } from './chapters.ts';
import { diffFolders, paintPatch } from './diff-command.ts';
import { Dashboard } from './dashboard.ts';
import { grade } from './grade.ts';
import { Grader } from './grader.ts';
import { hintText } from './hints.ts';
import { Progress, survey } from './progress.ts';
import { checkReport, courseMap, pad } from './report.ts';
import { ResetError, applyReset, describePlan, planReset } from './reset.ts';

const HELP: Record<string, string> = {
  start: `npm start [--poll]
  Finds your current chapter (the first whose code in chapters/ does not pass its tests),
  grades it, and shows the first failure. It watches chapters/ and grades again each time
  you save; keys: h hint, d diff, n/p next/previous chapter, r re-run, l chapters, q quit.
  Without a terminal (a pipe, CI) it prints the chapter map once and exits.
    --poll    look at the files every 0.5 s instead of waiting for change events
              (for WSL on a Windows drive, network shares, some containers)
    --watch   watch and read keys even without a terminal`,
  check: `npm run check -- N [--solution] [--verbose]
  Grades your chapters/NN-* folder with the tests of chapters N, N-1, ... 1 (newest first).
  Exits 0 only when every test passes.
    --solution   grade the reference in solutions/ instead (to see what passing looks like)
    --verbose    show every failure in full, not only the first of each chapter`,
  diff: `npm run diff -- N [--from-previous] [--color | --no-color]
  Shows how the reference solution differs from your chapter, as a unified diff.
    --from-previous   show what the reference changed between chapter N-1 and chapter N`,
  hint: `npm run hint -- N [--all] [--again]
  Shows chapter N's hints one at a time: the first call shows the first, each later call
  the next. The hints are the folded "Hint" blocks at the end of the chapter's lesson.
    --all     show every hint at once
    --again   start over from the first hint`,
  reset: `npm run reset -- N [--yes] [--from <commit>]
  Puts chapter N's starter back in chapters/NN-*, from git, after you confirm: the files
  that differ from it are overwritten. Files you added are left alone, and so is every
  other chapter.
    --yes            do not ask first
    --from <commit>  take the starter from this commit instead of HEAD (if you committed
                     your own work, name the commit the course came with)`,
  server: `npm run server -- N [--solution]
  Starts chapter N's server (yours, or the reference with --solution) on HOST:PORT,
  default 127.0.0.1:8080. Stop it with Ctrl-C.`,
  client: `npm run client -- N [--solution] [url] [client options]
  Runs chapter N's client (yours, or the reference with --solution) against url,
  default http://127.0.0.1:8080/.`,
};

function usage(): string {
  return ['The course commands:', '', ...Object.values(HELP).map((text) => `${text}\n`), 'A chapter is named by number (1, 01) or folder (01-hello-socket).'].join('\n');
}

class UsageError extends Error {}

type Flags = Record<string, { type: 'boolean' } | { type: 'string' }>;

function parse<T extends Flags>(command: string, args: string[], options: T) {
  try {
    const all = { help: { type: 'boolean' }, ...options } as T & { help: { type: 'boolean' } };
    return parseArgs({ args, allowPositionals: true, options: all });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${HELP[command]}`);
  }
}

async function start(args: string[]): Promise<number> {
  const { values } = parse('start', args, {
    poll: { type: 'boolean' },
    watch: { type: 'boolean' },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
  });
  if (values.help) return help('start');
  const paint = palette(colourWanted(values));
  const chapters = listChapters();
  const grader = new Grader(chapters);
  const progress = new Progress();
  // A pipe or CI cannot answer keys: the map, once, and done.
  if (!values.watch && !(process.stdin.isTTY && process.stdout.isTTY)) {
    console.log(paint.dim('Grading your chapters in order, up to the first that does not pass ...'));
    const found = await survey(chapters, (chapter) => grader.grade(chapter), progress);
    grader.stop();
    console.log(courseMap(found.rows, paint).text);
    return 0;
  }
  const dashboard = new Dashboard({
    root: ROOT,
    chapters,
    grader,
    progress,
    paint,
    output: { write: (text) => process.stdout.write(text), clear: Boolean(process.stdout.isTTY) },
    input: process.stdin,
    poll: values.poll,
  });
  process.on('SIGINT', () => dashboard.quit());
  process.on('SIGTERM', () => dashboard.quit());
  await dashboard.run();
  // A pipe on stdin (the tests type into one) would keep the process alive.
  process.stdin.destroy();
  return 0;
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parse('check', args, {
    solution: { type: 'boolean' },
    verbose: { type: 'boolean' },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
  });
  if (values.help) return help('check');
  const paint = palette(colourWanted(values));
  const chapters = listChapters();
  const chapter = resolveChapter(positionals[0], chapters);
  const folder = values.solution ? chapter.solutionDir : chapter.chapterDir;
  const graded = chapters.filter((other) => other.number <= chapter.number).reverse();
  const results = await grade([{ name: 'check', impl: folder, tests: graded.map((other) => other.testFile) }]);
  const command = `npm run check -- ${chapter.number}${values.solution ? ' --solution' : ''}`;
  const next = chapters.find((other) => other.number > chapter.number);
  const report = checkReport({ chapter, graded, folder, results, verbose: Boolean(values.verbose), command, next }, paint);
  console.log(report.text);
  return report.ok ? 0 : 1;
}

function diff(args: string[]): number {
  const { values, positionals } = parse('diff', args, {
    'from-previous': { type: 'boolean' },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
  });
  if (values.help) return help('diff');
  const paint = palette(colourWanted(values));
  const chapters = listChapters();
  const chapter = resolveChapter(positionals[0], chapters);
  let before: string;
  let what: string;
  if (values['from-previous']) {
    const previous = chapters.filter((other) => other.number < chapter.number).at(-1);
    if (!previous) {
      console.log(`Chapter ${pad(chapter.number)} is the first chapter: there is no previous reference to compare with.`);
      return 0;
    }
    before = previous.solutionDir;
    what = `What the reference changed from chapter ${pad(previous.number)} to chapter ${pad(chapter.number)}`;
  } else {
    before = chapter.chapterDir;
    what = `How the reference differs from your chapter (- yours, + the reference)`;
  }
  const result = diffFolders(ROOT, before, chapter.solutionDir);
  console.log(paint.bold(`${what}: ${before} → ${chapter.solutionDir}`), '\n');
  if (result.patches.length === 0) {
    console.log(`No differences in ${result.compared} files.`);
    return 0;
  }
  for (const patch of result.patches) console.log(paintPatch(patch, paint));
  console.log(paint.dim(`${result.patches.length} of ${result.compared} files differ.`));
  return 0;
}

/** Runs a chapter's server.ts or client.ts in its own process, as `npx tsx <file>` would. */
async function run(command: 'server' | 'client', args: string[]): Promise<number> {
  const wantsHelp = args.includes('--help') && args.indexOf('--help') < 2;
  if (wantsHelp) return help(command);
  const solution = args.includes('--solution');
  const rest = args.filter((arg) => arg !== '--solution');
  const chapter: Chapter = resolveChapter(rest[0], listChapters());
  const file = path.join(ROOT, solution ? chapter.solutionDir : chapter.chapterDir, `${command}.ts`);
  if (!existsSync(file)) throw new UsageError(`${path.relative(ROOT, file)} is missing.`);
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...rest.slice(1)], { cwd: ROOT, stdio: 'inherit' });
  // Ctrl-C reaches the child directly (same process group); we only wait for it to finish.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', () => {});
  process.on('SIGTERM', forward('SIGTERM'));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

function hint(args: string[]): number {
  const { values, positionals } = parse('hint', args, { all: { type: 'boolean' }, again: { type: 'boolean' } });
  if (values.help) return help('hint');
  const chapter = resolveChapter(positionals[0], listChapters());
  console.log(hintText(chapter, { all: values.all, again: values.again }));
  return 0;
}

async function reset(args: string[]): Promise<number> {
  const { values, positionals } = parse('reset', args, { yes: { type: 'boolean' }, from: { type: 'string' } });
  if (values.help) return help('reset');
  const chapter = resolveChapter(positionals[0], listChapters());
  const plan = planReset(ROOT, chapter, typeof values.from === 'string' ? values.from : 'HEAD');
  console.log(describePlan(plan));
  if (plan.restore.length === 0) return 0;
  if (!values.yes) {
    const answer = await ask(`\nRestore ${plan.restore.length === 1 ? 'this file' : `these ${plan.restore.length} files`}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log('Nothing was changed.');
      return 1;
    }
  }
  applyReset(ROOT, plan);
  console.log(`Restored ${plan.restore.map((entry) => entry.file).join(', ')} in ${chapter.chapterDir}/ from commit ${plan.commit}. No other chapter was touched.`);
  return 0;
}

/** One line from stdin (a terminal or a pipe); empty when stdin ends first. */
async function ask(question: string): Promise<string> {
  const lines = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await new Promise<string>((resolve) => {
      lines.question(question, resolve);
      lines.once('close', () => resolve(''));
    });
  } finally {
    lines.close();
  }
}

function help(command?: string): number {
  console.log(command && HELP[command] ? HELP[command] : usage());
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'start':
      return start(args);
    case 'check':
      return check(args);
    case 'diff':
      return diff(args);
    case 'hint':
      return hint(args);
    case 'reset':
      return reset(args);
    case 'server':
    case 'client':
      return run(command, args);
    case undefined:
    case 'help':
    case '--help':
      return help();
    default:
      throw new UsageError(`Unknown command "${command}".\n\n${usage()}`);
  }
}

// `npm run diff -- 3 | head` closes our stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ChapterNameError || error instanceof UsageError || error instanceof ResetError) {
    console.error(error.message);
    process.exitCode = 2;
  } else {
    throw error;
  }
}

